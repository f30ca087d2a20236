package hub_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// The permissions docs/operations.md gives the hub and a publisher on an
// outside NATS.
var (
	outsideHubPerms = &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{"hookhub.>", "$JS.API.>", "$JS.ACK.>", "$JS.FC.>",
			"$KV.hookhub_webhooks.>", "$KV.hookhub_health.>", "$KV.hookhub_event_types.>", "$KV.hookhub_portal_links.>",
			"$KV.hookhub_console_sessions.>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_HOOKHUB_INBOX.>"}},
	}
	outsidePublisherPerms = &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"hookhub.events.acme.>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
	}
)

// TestOutsideNATSWithLogins: a hub logs in to an outside NATS with
// nats_user and nats_password, and with only the permissions the operations
// guide gives it, routes and delivers what a publisher limited to its account
// publishes. Without its login the hub does not start, and says why.
func TestOutsideNATSWithLogins(t *testing.T) {
	const hubPassword, pubPassword = "hub-password-on-the-outside-nats", "acme-password-on-the-outside-nats"
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{
			{Username: "hookhub", Password: hubPassword, Permissions: outsideHubPerms},
			{Username: "acme-pub", Password: pubPassword, Permissions: outsidePublisherPerms},
		}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })

	cfg, err := config.Parse("test.json", []byte(`{"nats_url":"`+s.ClientURL()+`","api_addr":"off"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := hub.New(cfg, hub.WithLogger(zerolog.Nop())); err == nil {
		_ = h.Close()
		t.Fatal("a hub without its login started")
	} else if !strings.Contains(err.Error(), "Authorization Violation") {
		t.Errorf("a hub without its login: %v", err)
	}

	// The first attempt fails: the retry goes through the scheduled wake-up.
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	doc := `{"nats_url":"` + s.ClientURL() + `","nats_user":"hookhub","nats_password":"${env:HUB_NATS_PASSWORD}",
	 "api_addr":"127.0.0.1:0","api_token":"op-token-on-the-outside-nats",
	 "webhooks":[` + webhookJSON("wh_outside", "acme", rc.URL+"/in", `"events":["contact.*"],"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	h := hubtest.StartHub(t, doc, map[string]string{"HUB_NATS_PASSWORD": hubPassword})
	consoleSignIn(t, h.APIURL(), "op-token-on-the-outside-nats") // the sessions bucket is within the permissions

	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("acme-pub", pubPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := publish.New(js, "hookhub").Publish(ctx, &event.Event{Source: "crm", Type: "contact.updated", Account: "acme",
		Data: []byte(`{"email":"ada@example.com"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := rc.WaitFor(t, 2, 30*time.Second); len(got) != 2 {
		t.Errorf("%d requests, want a failed one and its retry", len(got))
	}
}

// consoleSignIn signs in to the console at base with token, and checks
// that the session opens a page.
func consoleSignIn(t *testing.T, base, token string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the sign-in page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/console/signin", url.Values{"csrf": {string(m[1])}, "token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/webhooks" {
		t.Fatalf("console sign-in: %d at %s, want 200 at /console/webhooks\n%s", resp.StatusCode, resp.Request.URL.Path, page)
	}
}
