package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/console"
	"github.com/hookhub/hookhub/hub/internal/portal"
)

const (
	sessionCookie = "hookhub_console"
	portalCookie  = "hookhub_portal"
	// signOutBound is how late a sign-out on one hub may take effect on
	// another: the session cache, and a margin for a loaded machine.
	signOutBound = portal.SessionCacheFor + 3*time.Second
)

// secondHub runs another hub on first's NATS with the config doc's API
// and accounts (nats_url and api_addr are added).
func secondHub(t *testing.T, first *hub.Hub, accounts string) *hub.Hub {
	t.Helper()
	return hubtest.StartHub(t, fmt.Sprintf(`{"nats_url":%q,"api_addr":"127.0.0.1:0",%s}`, first.NATSURL(), accounts), nil)
}

// cookie is the value of the cookie name that b holds.
func (b *browser) cookie(name string) string {
	b.t.Helper()
	u, _ := url.Parse(b.base + "/console/")
	if name == portalCookie {
		u, _ = url.Parse(b.base + "/portal/")
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	b.t.Fatalf("the browser holds no cookie %s", name)
	return ""
}

// withCookie is a new browser on base holding only the cookie name=value:
// the same browser, as a load balancer sends it to another hub.
func withCookie(t *testing.T, base, name, value string) *browser {
	b := newBrowser(t, base)
	u, _ := url.Parse(base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	return b
}

func signedOut(resp *http.Response) bool {
	return resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/console/signin"
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestSessionsSharedByHubs: an operator's console session made on hub A
// works on hub B (pages and forms), and a sign-out on A ends it on B
// within the cache's bound; the same for a portal session, the other way.
func TestSessionsSharedByHubs(t *testing.T) {
	a := startHub(t)
	b := secondHub(t, a, fmt.Sprintf(`"api_token":%q,"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}]`, opToken, acmeToken))
	makeHook(t, a, "acme", "acme-crm")
	makeHook(t, a, "globex", "globex-crm")

	onA := newBrowser(t, a.APIURL())
	list := onA.signIn(opToken)
	onB := withCookie(t, b.APIURL(), sessionCookie, onA.cookie(sessionCookie))
	// Hub B learns of the webhooks made through A from their bucket, a
	// moment later: the session must work at once, the list in a moment.
	resp, page := onB.do("GET", "/console/webhooks", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hub A's operator session on hub B: %d, want 200\n%s", resp.StatusCode, page)
	}
	hubtest.Eventually(t, 5*time.Second, "hub B's webhook page listing every account's webhooks", func() bool {
		resp, page = onB.do("GET", "/console/webhooks", nil)
		return resp.StatusCode == http.StatusOK && strings.Contains(page, "globex-crm") && strings.Contains(page, "acme-crm")
	})
	// A form drawn by A, posted to B: the same session, the same CSRF token.
	resp, page = onB.do("POST", "/console/webhooks", formValues(csrfOf(t, list), url.Values{"name": {"made-on-b"}}))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(page, "Webhook created") {
		t.Fatalf("a form of hub A's page posted to hub B: %d, want 201 Webhook created", resp.StatusCode)
	}
	// Hub A too learns of it from the bucket, a moment later.
	hubtest.Eventually(t, 5*time.Second, "the webhook made through hub B listed by hub A", func() bool {
		_, m := apiJSON(t, a, "GET", "/v1/webhooks?account=acme", "")
		return strings.Contains(fmt.Sprint(m), "made-on-b")
	})

	if resp, _ := onA.do("POST", "/console/signout", url.Values{"csrf": {csrfOf(t, list)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on A: %d", resp.StatusCode)
	}
	out := time.Now()
	hubtest.Eventually(t, signOutBound, "the sign-out on A ending the session on B", func() bool {
		resp, _ := onB.do("GET", "/console/webhooks", nil)
		return signedOut(resp)
	})
	t.Logf("signed out on B %v after the sign-out on A", time.Since(out).Round(time.Millisecond))
	if resp, _ := withCookie(t, a.APIURL(), sessionCookie, onB.cookie(sessionCookie)).do("GET", "/console/webhooks", nil); !signedOut(resp) {
		t.Errorf("the signed-out session on A itself: %d", resp.StatusCode)
	}

	// The portal: opened on A, used and signed out on B, ended on A.
	pa, ppage := enterPortal(t, a, "acme", "")
	pb := withCookie(t, b.APIURL(), portalCookie, pa.cookie(portalCookie))
	resp, page = pb.do("GET", "/portal/webhooks", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "acme-crm") || strings.Contains(page, "globex-crm") {
		t.Fatalf("hub A's portal session on hub B: %d, want 200 with acme's webhooks only\n%s", resp.StatusCode, page)
	}
	if resp, _ := pb.do("POST", "/portal/signout", url.Values{"csrf": {csrfOf(t, ppage)}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("portal sign-out on B: %d", resp.StatusCode)
	}
	hubtest.Eventually(t, signOutBound, "the portal sign-out on B ending the session on A", func() bool {
		resp, _ := pa.do("GET", "/portal/webhooks", nil)
		return resp.StatusCode == http.StatusForbidden
	})
}

// twoConsoles are two consoles (two hubs' worth) over one NATS, whose
// sessions last ttl, in front of h's API.
func twoConsoles(t *testing.T, h *hub.Hub, ttl time.Duration) (string, string) {
	t.Helper()
	target, _ := url.Parse(h.APIURL())
	api := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	cfg := &config.Config{APIToken: config.Secret(opToken)}
	var bases []string
	for range 2 {
		js, err := jetstream.New(h.Conn())
		if err != nil {
			t.Fatal(err)
		}
		ss, err := portal.OpenSessions(context.Background(), js, "test_console_sessions", 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c, err := console.New(console.Options{API: api, Config: cfg, Sessions: ss, SessionTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, newServer(t, c))
	}
	return bases[0], bases[1]
}

// TestSessionsExpireOnEveryHub: a session that has expired is refused by
// the hub that made it and by another that had read it (and cached it).
func TestSessionsExpireOnEveryHub(t *testing.T) {
	const ttl = 3 * time.Second
	a, b := twoConsoles(t, startHub(t), ttl)
	onA := newBrowser(t, a)
	onA.signIn(opToken)
	made, ck := time.Now(), onA.cookie(sessionCookie)
	onB := withCookie(t, b, sessionCookie, ck)
	if resp, page := onB.do("GET", "/console/webhooks", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session on the other console: %d\n%s", resp.StatusCode, page)
	}
	time.Sleep(time.Until(made.Add(ttl + 100*time.Millisecond)))
	for name, br := range map[string]*browser{"A": withCookie(t, a, sessionCookie, ck), "B": onB} {
		if resp, _ := br.do("GET", "/console/webhooks", nil); !signedOut(resp) {
			t.Errorf("an expired session on %s: %d to %q, want 303 to the sign-in", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// bucketRaw is every message the sessions bucket's stream holds: subject
// and data.
func bucketRaw(t *testing.T, h *hub.Hub) map[string]string {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(h.Conn())
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "KV_hookhub_console_sessions")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]string{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		if m, err := st.GetMsg(ctx, seq); err == nil {
			raw[m.Subject] = string(m.Data)
		}
	}
	return raw
}

// TestSessionsBucketHoldsNoSecret: the KV holds each session under the
// SHA-256 of its cookie, with its scope and the SHA-256 of its token, and
// neither a token nor a cookie's value anywhere.
func TestSessionsBucketHoldsNoSecret(t *testing.T) {
	h := startHub(t)
	op, acme := newBrowser(t, h.APIURL()), newBrowser(t, h.APIURL())
	op.signIn(opToken)
	acme.signIn(acmeToken)
	pb, _ := enterPortal(t, h, "acme", `{"read_only":true}`)
	cookies := map[string]string{"operator": op.cookie(sessionCookie), "acme": acme.cookie(sessionCookie), "portal": pb.cookie(portalCookie)}
	raw := bucketRaw(t, h)
	if len(raw) != 3 {
		t.Fatalf("the bucket holds %d messages, want 3 sessions: %v", len(raw), raw)
	}
	for subj, data := range raw {
		for _, secret := range []string{opToken, acmeToken, cookies["operator"], cookies["acme"], cookies["portal"]} {
			if strings.Contains(subj, secret) || strings.Contains(data, secret) {
				t.Errorf("the bucket's %s holds a token or a cookie's value: %s", subj, data)
			}
		}
	}
	want := map[string]struct{ scope, tokenSum string }{
		"operator": {"", sum(opToken)}, "acme": {"acme", sum(acmeToken)}, "portal": {"acme", ""},
	}
	for who, ck := range cookies {
		data, ok := raw["$KV.hookhub_console_sessions."+sum(ck)]
		if !ok {
			t.Errorf("no record of the %s session under the SHA-256 of its cookie; bucket: %v", who, raw)
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(data), &rec); err != nil {
			t.Fatal(err)
		}
		got := struct{ scope, tokenSum string }{fmt.Sprint(rec["scope"]), fmt.Sprint(rec["token_sha256"])}
		if rec["scope"] == nil {
			got.scope = ""
		}
		if rec["token_sha256"] == nil {
			got.tokenSum = ""
		}
		if got != want[who] || rec["csrf"] == nil || rec["expires"] == nil {
			t.Errorf("the %s session's record: %s, want scope %q and token_sha256 %q", who, data, want[who].scope, want[who].tokenSum)
		}
	}
	if rec := raw["$KV.hookhub_console_sessions."+sum(cookies["portal"])]; !strings.Contains(rec, `"read_only":true`) {
		t.Errorf("the read-only portal session's record: %s", rec)
	}
}

// TestSessionsOfOneAccountStayItsOwn: nothing the client of account acme's
// session holds turns it into globex's: an edited cookie, the record's key
// as a cookie, or globex's CSRF token; and a record whose scope was
// rewritten in the bucket opens nothing, since globex's token is not the
// one it signed in with.
func TestSessionsOfOneAccountStayItsOwn(t *testing.T) {
	const globexToken = "globex-token-0123456789abcdef"
	h := hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"accounts":[{"id":"acme","api_token":%q},{"id":"globex","api_token":%q}]}`, opToken, acmeToken, globexToken), nil)
	makeHook(t, h, "acme", "acme-crm")
	gid := makeHook(t, h, "globex", "globex-crm")
	acme, globex := newBrowser(t, h.APIURL()), newBrowser(t, h.APIURL())
	acmeList := acme.signIn(acmeToken)
	globexList := globex.signIn(globexToken)
	if strings.Contains(acmeList, "globex-crm") {
		t.Fatal("acme's session lists globex's webhook")
	}
	ck := acme.cookie(sessionCookie)
	last := "A"
	if strings.HasSuffix(ck, "A") {
		last = "B"
	}
	edited := []string{ck[:len(ck)-1] + last, ck + "A", ck[1:], strings.ToUpper(ck), sum(ck), "globex", "scope=globex"}
	for _, v := range edited {
		if resp, _ := withCookie(t, h.APIURL(), sessionCookie, v).do("GET", "/console/webhooks", nil); !signedOut(resp) {
			t.Errorf("an edited cookie %q: %d, want 303 to the sign-in", v, resp.StatusCode)
		}
	}
	// globex's CSRF token in acme's session: refused before the API is asked.
	resp, _ := acme.do("POST", "/console/webhooks/"+gid+"/delete", url.Values{"csrf": {csrfOf(t, globexList)}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("acme's session with globex's CSRF token deleting globex's webhook: %d, want 403", resp.StatusCode)
	}
	if code, _ := apiJSON(t, h, "GET", "/v1/webhooks/"+gid, ""); code != http.StatusOK {
		t.Fatalf("globex's webhook after the attempts: %d", code)
	}

	// Rewrite acme's record in the bucket to globex's scope.
	ctx := context.Background()
	js, _ := jetstream.New(h.Conn())
	kv, err := js.KeyValue(ctx, "hookhub_console_sessions")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, sum(ck))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	_ = json.Unmarshal(e.Value(), &rec)
	rec["scope"] = "globex"
	forged, _ := json.Marshal(rec)
	if _, err := kv.Put(ctx, sum(ck), forged); err != nil {
		t.Fatal(err)
	}
	hubtest.Eventually(t, signOutBound, "the rewritten record opening nothing", func() bool {
		resp, _ := acme.do("GET", "/console/webhooks", nil)
		return signedOut(resp)
	})
}

// TestSessionsEndWhenTheTokenRotates: a hub started with new tokens (the
// config after a rotation), on the same NATS, refuses the sessions made
// with the old ones, operator and account alike, and opens one for the new
// token.
func TestSessionsEndWhenTheTokenRotates(t *testing.T) {
	const newOp, newAcme = "op-token-rotated-0123456789", "acme-token-rotated-0123456789"
	old := startHub(t)
	op, acme := newBrowser(t, old.APIURL()), newBrowser(t, old.APIURL())
	op.signIn(opToken)
	acme.signIn(acmeToken)
	rotated := secondHub(t, old, fmt.Sprintf(`"api_token":%q,"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}]`, newOp, newAcme))
	for who, br := range map[string]*browser{"operator": op, "acme": acme} {
		if resp, _ := withCookie(t, rotated.APIURL(), sessionCookie, br.cookie(sessionCookie)).do("GET", "/console/webhooks", nil); !signedOut(resp) {
			t.Errorf("the %s session of the old token on the rotated hub: %d, want 303 to the sign-in", who, resp.StatusCode)
		}
	}
	newBrowser(t, rotated.APIURL()).signIn(newAcme)
}
