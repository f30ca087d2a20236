package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/signature"
)

// TestConsoleWebhookDetail: the detail screen, linked from the list, shows
// what the webhook receives, the masked secret and never the secret, the
// rotate action, the JWKS link of a v1a webhook, the IP ranges to allow and
// the verify snippets naming the webhook; another account's session gets
// "not found".
func TestConsoleWebhookDetail(t *testing.T) {
	key, err := signature.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	h := hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"delivery":{"egress_ranges":["203.0.113.0/24","2001:db8:5::/48"],"signing_keys":[%q]},
		"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}]}`, opToken, key.Reveal(), acmeToken), nil)
	receiver := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	st, made := apiJSON(t, h, "POST", "/v1/webhooks", fmt.Sprintf(`{"account":"globex","name":"crm <b>sync</b>","url":%q,
		"events":["contact.created","email.*"],"initiators":["api"],"lists":["newsletter"],"signatures":["v1","v1a"]}`, receiver+"/in"))
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, made)
	}
	id := made["id"].(string)
	secret := h.Snapshot().Get(id).Secret.Reveal()
	_, shown := apiJSON(t, h, "GET", "/v1/webhooks/"+id, "")
	masked, _ := shown["secret"].(string)
	if masked == "" || masked == secret {
		t.Fatalf("the API shows the secret as %q", masked)
	}

	op := newBrowser(t, h.APIURL())
	list := op.signIn(opToken)
	if !strings.Contains(list, `href="/console/webhooks/`+id+`"`) {
		t.Fatalf("the list does not link the webhook's name to its detail:\n%s", list)
	}
	resp, page := op.do("GET", "/console/webhooks/"+id, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("detail: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		"crm <b>sync</b>", receiver + "/in", "contact.created, email.*", "api", "newsletter", "Active",
		`value="` + masked + `"`, // the secret as the API masks it
		`action="/console/webhooks/` + id + `/rotate"`,
		`href="/v1/accounts/globex/jwks.json"`,
		"203.0.113.0/24\n2001:db8:5::/48\n",
		`signature.Verify(secret, r.Header, body)`, `"github.com/hookhub/hookhub/sdk/signature"`,
		`new Webhook(process.env.WEBHOOK_SECRET)`, `wh.verify(`,
		"// Webhook " + id + ":",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the detail does not show %q", want)
		}
	}
	if strings.Contains(page, secret) || strings.Contains(page, strings.TrimPrefix(secret, "whsec_")) {
		t.Error("the detail shows the signing secret")
	}
	if strings.Contains(page, key.Reveal()) {
		t.Error("the detail shows the signing key")
	}

	// The name is data: escaped, never markup.
	rawResp, err := op.c.Get(h.APIURL() + "/console/webhooks/" + id)
	if err != nil {
		t.Fatal(err)
	}
	rawPage, _ := io.ReadAll(rawResp.Body)
	rawResp.Body.Close()
	if strings.Contains(string(rawPage), "<b>sync") || !strings.Contains(string(rawPage), "&lt;b&gt;sync") {
		t.Error("the detail does not escape the webhook's name")
	}

	// Rotate from the detail: the new secret shown once, the detail still masked.
	_, rotated := op.do("POST", "/console/webhooks/"+id+"/rotate", url.Values{"csrf": {csrfOf(t, page)}})
	next := h.Snapshot().Get(id).Secret.Reveal()
	if next == secret || !strings.Contains(rotated, next) {
		t.Fatal("rotating from the detail does not show the new secret")
	}
	if _, again := op.do("GET", "/console/webhooks/"+id, nil); strings.Contains(again, next) || strings.Contains(again, secret) {
		t.Error("the detail shows a secret after the rotation")
	}

	// Another account's session: not found, and nothing of the webhook.
	acme := newBrowser(t, h.APIURL())
	acme.signIn(acmeToken)
	resp, other := acme.do("GET", "/console/webhooks/"+id, nil)
	if resp.StatusCode != http.StatusNotFound || strings.Contains(other, receiver) || strings.Contains(other, "crm") {
		t.Fatalf("acme opens globex's webhook detail: %d\n%s", resp.StatusCode, other)
	}
	if resp, _ := acme.do("GET", "/console/webhooks/wh_nope", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown webhook: %d, want 404", resp.StatusCode)
	}
}

// TestPortalWebhookDetail: the account portal serves the detail for its own
// account (read-only: no rotate, no edit), and another account's webhook is
// not found.
func TestPortalWebhookDetail(t *testing.T) {
	h := startHub(t)
	mine := makeHook(t, h, "acme", "acme-crm")
	theirs := makeHook(t, h, "globex", "globex-crm")
	b, list := enterPortal(t, h, "acme", `{"read_only":true}`)
	if !strings.Contains(list, `href="/portal/webhooks/`+mine+`"`) {
		t.Fatalf("the portal's list does not link the detail:\n%s", list)
	}
	resp, page := b.do("GET", "/portal/webhooks/"+mine, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "acme-crm") || !strings.Contains(page, "signature.Verify(") {
		t.Fatalf("the portal's detail: %d\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "Rotate secret") || strings.Contains(page, ">Edit<") {
		t.Error("the read-only portal's detail offers a change")
	}
	if strings.Contains(page, h.Snapshot().Get(mine).Secret.Reveal()) {
		t.Error("the portal's detail shows the secret")
	}
	if resp, body := b.do("GET", "/portal/webhooks/"+theirs, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "globex-crm") {
		t.Errorf("acme's portal opens globex's webhook detail: %d", resp.StatusCode)
	}
}
