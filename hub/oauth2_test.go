package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// newTokenServer is an OAuth2 token endpoint over TLS on loopback for the
// client credentials grant: it checks the client (HTTP Basic, as RFC 6749
// prefers, or form parameters) and answers the nth token issue(n), valid
// for an hour; a wrong client gets 401 invalid_client.
func newTokenServer(t *testing.T, clientID, clientSecret string, issue func(n int) string) *hubtest.Receiver {
	t.Helper()
	var issued atomic.Int32
	ts := hubtest.NewTLSReceiver(t)
	ts.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		form, _ := url.ParseQuery(string(ts.Requests()[n-1].Body)) // the receiver has read the body
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = form.Get("client_id"), form.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if form.Get("grant_type") != "client_credentials" || id != clientID || secret != clientSecret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"bad client ` + secret + `"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": issue(int(issued.Add(1))), "token_type": "Bearer", "expires_in": 3600})
	})
	return ts
}

// TestOAuth2ClientCredentials: a webhook with oauth2 auth fetches a token
// from the token endpoint once and reuses it for every delivery; when the
// receiver refuses it (401) the hub fetches a new one and the retry is
// delivered with it; a webhook whose client is refused by the token
// endpoint dead-letters with the endpoint's answer and never the secret.
func TestOAuth2ClientCredentials(t *testing.T) {
	tokens := newTokenServer(t, "hub", "s3cret-client", func(n int) string { return fmt.Sprintf("tok-%d", n) })
	var revoked atomic.Bool
	rc := hubtest.NewTLSReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if !strings.HasPrefix(auth, "Bearer tok-") || (revoked.Load() && auth == "Bearer tok-1") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	auth := func(secret string) string {
		return fmt.Sprintf(`"events":["*"],"retry":{"schedule":["100ms","100ms"],"jitter":0},
		 "auth":{"type":"oauth2","token_url":%q,"client_id":"hub","client_secret":%q,"scopes":["webhooks:write"],"audience":"https://receiver.example"}`,
			tokens.URL+"/oauth/token", secret)
	}
	doc := fmt.Sprintf(`{"delivery":{"ca_file":%q},"webhooks":[%s,%s]}`, rc.CAFile(t),
		webhookJSON("good", "acme", rc.URL+"/good", auth("s3cret-client")),
		webhookJSON("wrong", "acme", rc.URL+"/wrong", auth("not-the-secret")))
	r := startHub(t, doc, nil)
	for i := range 3 {
		r.publish(t, contact(fmt.Sprintf("evt_o%d", i)))
	}
	hubtest.Eventually(t, 15*time.Second, "three deliveries", func() bool { return r.Stats().Delivered == 3 })

	grants := func() (n int) {
		for _, q := range tokens.Requests() {
			if strings.Contains(string(q.Body), "grant_type=client_credentials") && strings.Contains(string(q.Body), "audience=https") &&
				strings.Contains(string(q.Body), "scope=webhooks") {
				n++
			}
		}
		return n
	}
	// The good client's one grant, and the wrong client's (refused) tries.
	good := 0
	for _, q := range rc.Requests() {
		if q.Path == "/good" && q.Header.Get("Authorization") == "Bearer tok-1" {
			good++
		}
	}
	if good != 3 {
		t.Errorf("%d of 3 deliveries carried the first token (it should be fetched once and reused)", good)
	}

	revoked.Store(true)
	r.publish(t, contact("evt_o3"))
	hubtest.Eventually(t, 15*time.Second, "the delivery after the token was revoked", func() bool { return r.Stats().Delivered == 4 })
	last := rc.Requests()
	var sawNew bool
	for _, q := range last {
		sawNew = sawNew || (q.Path == "/good" && q.Header.Get("Authorization") == "Bearer tok-2")
	}
	if !sawNew {
		t.Errorf("after a 401 the hub did not fetch and send a new token")
	}

	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 20*time.Second)
	reason := dl[0].Headers().Get(bus.HeaderReason)
	if w := dl[0].Headers().Get(bus.HeaderWebhook); w != "wrong" || !strings.Contains(reason, "oauth2 token endpoint answered 401") ||
		!strings.Contains(reason, "invalid_client") || strings.Contains(reason, "not-the-secret") {
		t.Errorf("dead letter of %s: %q", w, reason)
	}
	for _, q := range rc.Requests() {
		if q.Path == "/wrong" {
			t.Errorf("the webhook without a token reached the receiver")
		}
	}
	if n := grants(); n < 2+3 { // good: tok-1, tok-2; wrong: one try per attempt
		t.Errorf("token endpoint saw %d well-formed grants", n)
	}
}
