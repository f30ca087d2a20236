package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
)

// portalLink asks the API for a portal link as token; it returns the status
// and the answer.
func portalLink(t *testing.T, h *hub.Hub, token, account, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.APIURL()+"/v1/accounts/"+account+"/portal-links", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// enterPortal opens a link for account in a new browser and returns it with
// the portal's webhooks page.
func enterPortal(t *testing.T, h *hub.Hub, account, body string) (*browser, string) {
	t.Helper()
	code, m := portalLink(t, h, opToken, account, body)
	if code != http.StatusCreated {
		t.Fatalf("portal link for %s: %d %v", account, code, m)
	}
	b := newBrowser(t, h.APIURL())
	resp, page := b.open(m["path"].(string))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal/webhooks" {
		t.Fatalf("opening the link: %d to %q, want 303 to /portal/webhooks\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	resp, page = b.do("GET", "/portal/webhooks", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the portal's list: %d\n%s", resp.StatusCode, page)
	}
	return b, page
}

var enterRe = regexp.MustCompile(`<form method="post" action="([^"]+)" data-enter="[a-z]*">\s*<input type="hidden" name="t" value="([^"]+)">`)

// open opens a sign-in link as a browser does: its GET shows a page whose
// button POSTs the link; open presses it. A link the GET refuses is
// answered as is.
func (b *browser) open(path string) (*http.Response, string) {
	b.t.Helper()
	resp, page := b.do("GET", path, nil)
	m := enterRe.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return resp, page
	}
	return b.do("POST", m[1], url.Values{"t": {m[2]}})
}

func makeHook(t *testing.T, h *hub.Hub, account, name string) string {
	t.Helper()
	code, m := apiJSON(t, h, "POST", "/v1/webhooks", fmt.Sprintf(`{"account":%q,"name":%q,"url":"http://127.0.0.1:9/%s","events":["contact.created"]}`, account, name, name))
	if code != http.StatusCreated {
		t.Fatalf("create %s: %d %v", name, code, m)
	}
	return m["id"].(string)
}

func TestPortalLinkAPI(t *testing.T) {
	h := startHub(t)
	code, m := portalLink(t, h, opToken, "acme", "")
	if code != http.StatusCreated {
		t.Fatalf("operator, acme: %d %v", code, m)
	}
	path, _ := m["path"].(string)
	exp, _ := time.Parse(time.RFC3339, fmt.Sprint(m["expires_at"]))
	if !strings.HasPrefix(path, "/portal/enter?t=") || len(path) < len("/portal/enter?t=")+40 || m["url"] != h.APIURL()+path ||
		m["account"] != "acme" || m["read_only"] != false || time.Until(exp) < 4*time.Minute || time.Until(exp) > 5*time.Minute {
		t.Fatalf("the link %v: want /portal/enter?t=<random>, the account, read_only false, expiring in 5 minutes", m)
	}
	for _, tc := range []struct {
		what, token, account, body string
		want                       int
	}{
		{"acme's own token", acmeToken, "acme", `{"lifetime":"1h","read_only":true}`, http.StatusCreated},
		{"acme's token asking for globex", acmeToken, "globex", "", http.StatusNotFound},
		{"no token", "", "acme", "", http.StatusUnauthorized},
		{"a wrong token", "not-a-token-of-this-hub", "acme", "", http.StatusUnauthorized},
		{"an unknown account", opToken, "initech", "", http.StatusNotFound},
		{"a lifetime over an hour", opToken, "acme", `{"lifetime":"61m"}`, http.StatusBadRequest},
		{"a lifetime of nothing", opToken, "acme", `{"lifetime":"0s"}`, http.StatusBadRequest},
		{"an unknown field", opToken, "acme", `{"account":"globex"}`, http.StatusBadRequest},
	} {
		if code, m := portalLink(t, h, tc.token, tc.account, tc.body); code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.what, code, m, tc.want)
		}
	}
}

func TestPortalOpensOneAccountOnly(t *testing.T) {
	h := startHub(t)
	mine := makeHook(t, h, "globex", "globex-crm")
	theirs := makeHook(t, h, "acme", "acme-billing")
	b, list := enterPortal(t, h, "globex", "") // globex has no token of its own: the operator's link opens it

	if !strings.Contains(list, "globex-crm") || strings.Contains(list, "acme-billing") || strings.Contains(list, theirs) {
		t.Fatalf("the portal of globex shows another account's webhook, or not its own:\n%s", list)
	}
	if !strings.Contains(list, "Signed in as account globex") || strings.Contains(list, `="/console/`) {
		t.Fatalf("the portal page: want signed in as account globex, every link under /portal/:\n%s", list)
	}
	var ck *http.Cookie
	u, _ := url.Parse(h.APIURL() + "/portal/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "hookhub_portal" {
			ck = c
		}
	}
	if ck == nil {
		t.Fatal("no portal session cookie")
	}

	// Another account's webhook by id: not found, on every screen and action.
	csrf := csrfOf(t, list)
	if resp, body := b.do("GET", "/portal/webhooks/"+mine+"/logs", nil); resp.StatusCode != http.StatusOK || strings.Contains(body, `="/console/`) {
		t.Errorf("the logs of its own webhook: %d (want 200, links under /portal/)\n%s", resp.StatusCode, body)
	}
	for _, p := range []string{"/portal/webhooks/" + theirs + "/edit", "/portal/webhooks/" + theirs + "/delete", "/portal/webhooks/" + theirs + "/logs", "/portal/webhooks/" + theirs + "/dead-letters"} {
		if resp, body := b.do("GET", p, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "acme-billing") {
			t.Errorf("GET %s: %d, want 404 without the webhook", p, resp.StatusCode)
		}
	}
	// The test send answers in the row (200) with the API's refusal.
	if resp, body := b.do("POST", "/portal/webhooks/"+theirs+"/test", url.Values{"csrf": {csrf}, "event_type": {"contact.created"}}); !strings.Contains(body, `no webhook "`+theirs+`"`) {
		t.Errorf("test send of acme's webhook from globex's portal: %d without the API's not found\n%s", resp.StatusCode, body)
	}
	for _, verb := range []string{"deactivate", "delete", "rotate"} {
		if resp, _ := b.do("POST", "/portal/webhooks/"+theirs+"/"+verb, url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s of acme's webhook from globex's portal: %d, want 404", verb, resp.StatusCode)
		}
	}
	if wh := h.Snapshot().Get(theirs); wh == nil || !wh.IsActive() {
		t.Fatal("globex's portal changed acme's webhook")
	}
	// The portal cannot make a webhook in another account: the API refuses it beside the field.
	form := url.Values{"csrf": {csrf}, "account": {"acme"}, "name": {"sneaky"}, "url": {"http://127.0.0.1:9/s"}, "events": {"contact.created"}, "active": {"on"}}
	resp, body := b.do("POST", "/portal/webhooks", form)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "sees only account globex") || strings.Contains(body, `="/console/`) {
		t.Fatalf("create in acme from globex's portal: %d, want 422 saying it sees only globex\n%s", resp.StatusCode, body)
	}
	form.Set("account", "globex")
	if resp, body := b.do("POST", "/portal/webhooks", form); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create in globex from its portal: %d\n%s", resp.StatusCode, body)
	}
	for _, wh := range h.Snapshot().All() {
		if wh.Name == "sneaky" && wh.Account != "globex" {
			t.Fatalf("the portal of globex created a webhook in %s", wh.Account)
		}
	}
	// Its own webhook it can change.
	if resp, _ := b.do("POST", "/portal/webhooks/"+mine+"/deactivate", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal/webhooks#"+mine {
		t.Fatalf("deactivate its own: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	hubtest.Eventually(t, 5*time.Second, "deactivated", func() bool { wh := h.Snapshot().Get(mine); return wh != nil && !wh.IsActive() })

	// The portal's cookie is no console session, and the console's pages are not the portal's.
	thief := newBrowser(t, h.APIURL())
	cu, _ := url.Parse(h.APIURL() + "/console/")
	thief.c.Jar.SetCookies(cu, []*http.Cookie{{Name: "hookhub_console", Value: ck.Value}})
	if resp, _ := thief.do("GET", "/console/webhooks", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the portal's session id as a console cookie: %d, want 303 to the sign-in", resp.StatusCode)
	}
	for _, p := range []string{"/portal/signin", "/portal/accounts", "/portal/../console/webhooks"} {
		if resp, body := b.do("GET", p, nil); resp.StatusCode == http.StatusOK && strings.Contains(body, "acme") {
			t.Errorf("GET %s from the portal: %d shows acme", p, resp.StatusCode)
		}
	}
	// Signing out ends it.
	if resp, _ := b.do("POST", "/portal/signout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/portal/webhooks", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after sign-out: %d, want 403", resp.StatusCode)
	}
}

func TestPortalReadOnlyRefusesChanges(t *testing.T) {
	h := startHub(t)
	id := makeHook(t, h, "acme", "acme-crm")
	b, list := enterPortal(t, h, "acme", `{"read_only":true}`)
	if !strings.Contains(list, "acme-crm") || !strings.Contains(list, "Read-only") {
		t.Fatalf("the read-only portal does not list the account's webhook, or does not say it is read-only:\n%s", list)
	}
	for _, control := range []string{"Add a webhook", "Send test", "Deactivate", "Rotate secret", "Delete", ">Edit<"} {
		if strings.Contains(list, control) {
			t.Errorf("the read-only portal offers %q", control)
		}
	}
	csrf := csrfOf(t, list)
	for _, p := range []string{"/portal/webhooks/" + id + "/deactivate", "/portal/webhooks/" + id + "/delete", "/portal/webhooks/" + id + "/rotate", "/portal/webhooks/" + id,
		"/portal/webhooks/" + id + "/resend", "/portal/webhooks/" + id + "/dead-letters/redrive", "/portal/webhooks/" + id + "/logs/enable"} {
		if resp, body := b.do("POST", p, url.Values{"csrf": {csrf}, "url": {"http://127.0.0.1:9/changed"}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Read-only") {
			t.Errorf("POST %s read-only: %d, want 403 Read-only", p, resp.StatusCode)
		}
	}
	if resp, _ := b.do("POST", "/portal/webhooks", url.Values{"csrf": {csrf}, "url": {"http://127.0.0.1:9/n"}, "events": {"contact.created"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("create read-only: %d, want 403", resp.StatusCode)
	}
	if wh := h.Snapshot().Get(id); wh == nil || !wh.IsActive() || h.Snapshot().Len() != 1 {
		t.Fatal("a read-only portal session changed something")
	}
}

func TestPortalLinkWorksOnce(t *testing.T) {
	h := startHub(t)
	code, m := portalLink(t, h, opToken, "acme", "")
	if code != http.StatusCreated {
		t.Fatal(code, m)
	}
	path := m["path"].(string)
	if resp, _ := newBrowser(t, h.APIURL()).open(path); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	again := newBrowser(t, h.APIURL())
	resp, body := again.open(path)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, "used already") || len(resp.Cookies()) != 0 || strings.Contains(body, `="/console/`) {
		t.Fatalf("second use: %d, cookies %v, want 410 saying used already\n%s", resp.StatusCode, resp.Cookies(), body)
	}
	if resp, _ := again.do("GET", "/portal/webhooks", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after a refused link, the portal: %d, want 403", resp.StatusCode)
	}

	_, m = portalLink(t, h, opToken, "acme", `{"lifetime":"1s"}`)
	time.Sleep(1100 * time.Millisecond)
	if resp, body := newBrowser(t, h.APIURL()).do("GET", m["path"].(string), nil); resp.StatusCode != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("an expired link: %d, want 410 saying expired\n%s", resp.StatusCode, body)
	}
	if resp, body := newBrowser(t, h.APIURL()).do("GET", "/portal/enter?t=forged", nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Fatalf("a forged link: %d, want 404 saying not valid\n%s", resp.StatusCode, body)
	}
}

func TestPortalFrameAncestors(t *testing.T) {
	check := func(h *hub.Hub, want string, xfo bool) {
		t.Helper()
		b := newBrowser(t, h.APIURL())
		resp, _ := b.do("GET", "/portal/enter?t=x", nil)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+want+";") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("portal CSP %q: want frame-ancestors %s", csp, want)
		}
		if got := resp.Header.Get("X-Frame-Options") == "DENY"; got != xfo {
			t.Errorf("portal X-Frame-Options DENY: %v, want %v", got, xfo)
		}
		resp, _ = b.do("GET", "/console/signin", nil)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("console CSP %q, XFO %q: the operator console must never be framable", csp, resp.Header.Get("X-Frame-Options"))
		}
	}
	check(startHub(t), "'none'", true)
	cfgd := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","api_token":"op-token-0123456789abcdef","console":{"frame_ancestors":["https://app.example.com"]}}`, nil)
	check(cfgd, "https://app.example.com", false)
	env := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","api_token":"op-token-0123456789abcdef"}`,
		map[string]string{"HOOKHUB_CONSOLE_FRAME_ANCESTORS": "https://a.example.com,https://b.example.com:8443"})
	check(env, "https://a.example.com https://b.example.com:8443", false)

	for _, bad := range []string{"app.example.com", "https://app.example.com/path", "https://x.com; script-src *", "*"} {
		raw, _ := json.Marshal(map[string]any{"console": map[string]any{"frame_ancestors": []string{bad}}})
		if _, err := config.Parse("bad.json", raw, nil); err == nil {
			t.Errorf("frame_ancestors %q accepted", bad)
		}
	}
}

// TestPortalLinkRedeemedOnAnotherHub: links are in the JetStream KV, so a
// link issued by one hub opens the portal on another hub of the same NATS,
// and still only once across both.
func TestPortalLinkRedeemedOnAnotherHub(t *testing.T) {
	first := startHub(t)
	second := hubtest.StartHub(t, fmt.Sprintf(`{"nats_url":%q,"api_addr":"127.0.0.1:0","api_token":%q,
		"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}]}`, first.NATSURL(), opToken, acmeToken), nil)
	makeHook(t, first, "acme", "acme-crm")
	code, m := portalLink(t, first, acmeToken, "acme", "")
	if code != http.StatusCreated {
		t.Fatal(code, m)
	}
	path := m["path"].(string)
	b := newBrowser(t, second.APIURL())
	if resp, body := b.open(path); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the first hub's link on the second: %d\n%s", resp.StatusCode, body)
	}
	hubtest.Eventually(t, 5*time.Second, "the webhook on the second hub", func() bool {
		_, list := b.do("GET", "/portal/webhooks", nil)
		return strings.Contains(list, "acme-crm")
	})
	if resp, body := newBrowser(t, first.APIURL()).do("GET", path, nil); resp.StatusCode != http.StatusGone || !strings.Contains(body, "used already") {
		t.Fatalf("the same link back on the first hub: %d, want 410 used already", resp.StatusCode)
	}
}

// TestPortalLinkRaceOpensOneSession: eight browsers open the same link at
// once; one gets a session.
func TestPortalLinkRaceOpensOneSession(t *testing.T) {
	h := startHub(t)
	_, m := portalLink(t, h, opToken, "acme", "")
	path := m["path"].(string)
	codes := make(chan int, 8)
	for range 8 {
		go func() {
			req, _ := http.NewRequest("POST", h.APIURL()+"/portal/enter", strings.NewReader(url.Values{"t": {strings.TrimPrefix(path, "/portal/enter?t=")}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	opened := 0
	for range 8 {
		switch c := <-codes; c {
		case http.StatusSeeOther:
			opened++
		case http.StatusGone:
		default:
			t.Errorf("a racing redemption answered %d", c)
		}
	}
	if opened != 1 {
		t.Fatalf("%d sessions opened by one link, want 1", opened)
	}
}

// TestPortalLinkGetSpendsNothing: a link previewer that GETs the link (as a
// chat app does) gets the page with its button and no session, and the link
// still opens once for the person who presses the button; reuse is refused.
func TestPortalLinkGetSpendsNothing(t *testing.T) {
	h := startHub(t)
	makeHook(t, h, "acme", "acme-crm")
	_, m := portalLink(t, h, opToken, "acme", "")
	path := m["path"].(string)
	token := strings.TrimPrefix(path, "/portal/enter?t=")
	bot := newBrowser(t, h.APIURL())
	for i := range 3 {
		resp, page := bot.do("GET", path, nil)
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 || !enterRe.MatchString(page) {
			t.Fatalf("GET %d of the link: %d, cookies %v, want 200 with the button and no cookie\n%s", i+1, resp.StatusCode, resp.Cookies(), page)
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, " onload=") {
			t.Fatalf("the link's page has inline script\n%s", page)
		}
	}
	if resp, _ := bot.do("GET", "/portal/webhooks", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after GETs only, the portal: %d, want 403 (no session)", resp.StatusCode)
	}
	person := newBrowser(t, h.APIURL())
	if resp, body := person.do("POST", "/portal/enter", url.Values{"t": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the POST after GETs: %d, want 303\n%s", resp.StatusCode, body)
	}
	if _, list := person.do("GET", "/portal/webhooks", nil); !strings.Contains(list, "acme-crm") {
		t.Fatalf("the portal after the POST:\n%s", list)
	}
	for _, try := range []func() (*http.Response, string){
		func() (*http.Response, string) { return bot.do("POST", "/portal/enter", url.Values{"t": {token}}) },
		func() (*http.Response, string) { return bot.do("GET", path, nil) },
	} {
		if resp, body := try(); resp.StatusCode != http.StatusGone || !strings.Contains(body, "used already") || len(resp.Cookies()) != 0 {
			t.Fatalf("reuse: %d, cookies %v, want 410 used already\n%s", resp.StatusCode, resp.Cookies(), body)
		}
	}
	if resp, _ := bot.do("GET", "/portal/webhooks", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after a refused reuse, the portal: %d, want 403", resp.StatusCode)
	}
}
