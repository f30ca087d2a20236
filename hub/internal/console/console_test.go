package console_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/console"
)

const (
	opToken   = "op-token-0123456789abcdef"
	acmeToken = "acme-token-0123456789abcdef"
)

// startHub runs a real hub with its API and console on a random loopback
// port: an operator token, and account acme (limit 3) with a token of its own.
func startHub(t *testing.T) *hub.Hub {
	t.Helper()
	return hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}]}`, opToken, acmeToken), nil)
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: strings.TrimSuffix(base, "/"), c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, html.UnescapeString(string(raw))
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs in with token and returns the list page.
func (b *browser) signIn(token string) string {
	b.t.Helper()
	_, page := b.do("GET", "/console/signin", nil)
	resp, body := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "token": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d, want 303\n%s", resp.StatusCode, body)
	}
	resp, body = b.do("GET", "/console/webhooks", nil)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("list after sign-in: %d\n%s", resp.StatusCode, body)
	}
	return body
}

func TestConsoleSignInSetsAStrictSessionCookie(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())

	resp, _ := b.do("GET", "/console/webhooks", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed out, the list: %d to %q, want 303 to /console/signin", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("GET", "/console/signin", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q: want script-src 'self', frame-ancestors 'none', nothing unsafe-inline", csp)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || strings.Contains(page, " onclick=") {
		t.Errorf("the sign-in page has inline script or style, which the CSP blocks:\n%s", page)
	}

	// A wrong token opens nothing, and is not echoed.
	resp, body := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {"wrong-token-secret"}})
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "wrong-token-secret") {
		t.Fatalf("a wrong token: %d (want 401), echoed: %v", resp.StatusCode, strings.Contains(body, "wrong-token-secret"))
	}

	resp, _ = b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {opToken}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the API token: %d, want 303", resp.StatusCode)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "hookhub_console" && c.Value != "" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Expires.IsZero() {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/, an expiry", ck)
	}
	if strings.Contains(ck.Value, opToken) {
		t.Fatal("the session cookie holds the token")
	}
	resp, list := b.do("GET", "/console/webhooks", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(list, "Signed in as operator") || !strings.Contains(list, "0 of 3") {
		t.Fatalf("the list signed in: %d\n%s", resp.StatusCode, list)
	}

	// Sign-out ends the session on the server: the old cookie opens nothing.
	resp, _ = b.do("POST", "/console/signout", url.Values{"csrf": {csrfOf(t, list)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	again := newBrowser(t, h.APIURL())
	u, _ := url.Parse(h.APIURL() + "/console/")
	again.c.Jar.SetCookies(u, []*http.Cookie{{Name: "hookhub_console", Value: ck.Value}})
	if resp, _ := again.do("GET", "/console/webhooks", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the cookie of a signed-out session: %d, want 303 to the sign-in", resp.StatusCode)
	}
}

func TestConsoleFormsWithoutCSRFTokenAreRefused(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	list := b.signIn(opToken)
	form := url.Values{"account": {"acme"}, "url": {"http://127.0.0.1:9/x"}, "events": {"contact.created"}, "active": {"on"}}
	for _, tc := range []struct {
		what string
		csrf []string
	}{{"no token", nil}, {"a wrong token", []string{"not-the-token"}}} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tc.csrf != nil {
			f["csrf"] = tc.csrf
		}
		resp, body := b.do("POST", "/console/webhooks", f)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("create with %s: %d, want 403 saying CSRF", tc.what, resp.StatusCode)
		}
	}
	if n := h.Snapshot().Len(); n != 0 {
		t.Fatalf("a refused form created %d webhooks", n)
	}
	// The sign-in form too: without its token, no session.
	fresh := newBrowser(t, h.APIURL())
	if resp, _ := fresh.do("POST", "/console/signin", url.Values{"token": {opToken}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's CSRF token: %d, want 403", resp.StatusCode)
	}
	// With the token, the same form works.
	form.Set("csrf", csrfOf(t, list))
	if resp, body := b.do("POST", "/console/webhooks", form); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create with the CSRF token: %d\n%s", resp.StatusCode, body)
	}
}

// TestConsoleSecretShownOnce: the signing secret is on the page that answers
// the creation and the rotation, and on no later page.
func TestConsoleSecretShownOnce(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	list := b.signIn(opToken)
	resp, made := b.do("POST", "/console/webhooks", url.Values{"csrf": {csrfOf(t, list)}, "account": {"acme"}, "name": {"crm"},
		"url": {"http://127.0.0.1:9/x"}, "events": {"contact.created"}, "active": {"on"}, "auth_type": {"basic"}, "username": {"u"}, "password": {"pw-secret-123"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d\n%s", resp.StatusCode, made)
	}
	var id string
	for _, w := range h.Snapshot().Account("acme") {
		id = w.ID
	}
	secret := h.Snapshot().Get(id).Secret.Reveal()
	if !strings.Contains(made, secret) {
		t.Fatal("the creation's answer does not show the new secret")
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q on the page with the secret, want no-store", resp.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/console/webhooks", "/console/webhooks/" + id + "/edit", "/console/webhooks/" + id + "/delete"} {
		_, page := b.do("GET", p, nil)
		if strings.Contains(page, secret) || strings.Contains(page, "pw-secret-123") {
			t.Errorf("%s shows the signing secret or the password", p)
		}
	}
	_, list = b.do("GET", "/console/webhooks", nil)
	_, rotated := b.do("POST", "/console/webhooks/"+id+"/rotate", url.Values{"csrf": {csrfOf(t, list)}})
	next := h.Snapshot().Get(id).Secret.Reveal()
	if next == secret || !strings.Contains(rotated, next) {
		t.Fatal("the rotation's answer does not show the new secret")
	}
	if _, page := b.do("GET", "/console/webhooks", nil); strings.Contains(page, next) {
		t.Error("the list shows the rotated secret")
	}
}

// TestConsoleAccountTokenSeesItsAccountOnly: signed in with acme's token,
// the console shows and changes acme's webhooks only, by the API's own
// checks.
func TestConsoleAccountTokenSeesItsAccountOnly(t *testing.T) {
	h := startHub(t)
	op := newBrowser(t, h.APIURL())
	list := op.signIn(opToken)
	resp, _ := op.do("POST", "/console/webhooks", url.Values{"csrf": {csrfOf(t, list)}, "account": {"globex"}, "name": {"globex-hook"},
		"url": {"http://127.0.0.1:9/g"}, "events": {"contact.created"}, "active": {"on"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create for globex: %d", resp.StatusCode)
	}
	globex := h.Snapshot().Account("globex")[0].ID

	acme := newBrowser(t, h.APIURL())
	page := acme.signIn(acmeToken)
	if strings.Contains(page, "globex") || !strings.Contains(page, "Signed in as account acme") {
		t.Fatalf("acme's list shows globex or the wrong scope:\n%s", page)
	}
	if resp, _ := acme.do("GET", "/console/webhooks/"+globex+"/edit", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("acme opens globex's webhook: %d, want 404", resp.StatusCode)
	}
	csrf := csrfOf(t, page)
	for _, p := range []string{"/delete", "/deactivate", "/rotate"} {
		if resp, _ := acme.do("POST", "/console/webhooks/"+globex+p, url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("acme posts %s on globex's webhook: %d, want 404", p, resp.StatusCode)
		}
	}
	// An account field naming another account is refused by the API.
	resp, body := acme.do("POST", "/console/webhooks", url.Values{"csrf": {csrf}, "account": {"globex"},
		"url": {"http://127.0.0.1:9/x"}, "events": {"contact.created"}, "active": {"on"}})
	if resp.StatusCode == http.StatusCreated || len(h.Snapshot().Account("globex")) != 1 {
		t.Fatalf("acme created a webhook for globex: %d\n%s", resp.StatusCode, body)
	}
	if w := h.Snapshot().Get(globex); w == nil || !w.IsActive() {
		t.Fatal("globex's webhook was changed by acme")
	}
}

func TestConsoleShowsAPIErrorsBesideTheField(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	list := b.signIn(opToken)
	resp, page := b.do("POST", "/console/webhooks", url.Values{"csrf": {csrfOf(t, list)}, "account": {"acme"}, "name": {"kept name"},
		"url": {"ftp://example.com/x"}, "events": {"contact.created"}, "active": {"on"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad URL: %d, want 422", resp.StatusCode)
	}
	if !regexp.MustCompile(`(?s)id="url".*aria-invalid="true".*<p class="field-error" id="url-error">[^<]+</p>`).MatchString(page) {
		t.Errorf("no error beside the URL field:\n%s", page)
	}
	if !strings.Contains(page, `value="kept name"`) || !strings.Contains(page, `value="contact.created" checked`) {
		t.Error("the form lost what was typed")
	}
}

// TestConsoleSessionsExpire: a console whose sessions last 1 ns, over the
// real API of a hub, sends a signed-in browser back to the sign-in.
func TestConsoleSessionsExpire(t *testing.T) {
	h := startHub(t)
	target, _ := url.Parse(h.APIURL())
	api := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	cfg := &config.Config{APIToken: config.Secret(opToken)}
	c, err := console.New(console.Options{API: api, Config: cfg, SessionTTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, c)
	b := newBrowser(t, srv)
	_, page := b.do("GET", "/console/signin", nil)
	resp, _ := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {opToken}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/console/webhooks", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("an expired session: %d to %q, want 303 to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestConsoleStaticAssetsAreEmbedded(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	for _, p := range []string{"/console/static/htmx-2.0.11.min.js", "/console/static/htmx-LICENSE.txt", "/console/static/console.js", "/console/static/console.css"} {
		resp, body := b.do("GET", p, nil)
		if resp.StatusCode != http.StatusOK || len(body) < 100 {
			t.Errorf("%s: %d, %d bytes", p, resp.StatusCode, len(body))
		}
	}
	if resp, _ := b.do("GET", "/console/static/", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the static folder answers %d, want 404 (no listing)", resp.StatusCode)
	}
}

func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// apiJSON calls the management API with the operator token.
func apiJSON(t *testing.T, h *hub.Hub, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, h.APIURL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+opToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestConsoleEditKeepsWhatItDoesNotShow: saving the edit form with the
// password and a header value left empty keeps them, and keeps what the form
// does not show (retry schedule, signatures).
func TestConsoleEditKeepsWhatItDoesNotShow(t *testing.T) {
	h := startHub(t)
	code, m := apiJSON(t, h, "POST", "/v1/webhooks", `{"account":"acme","name":"first","url":"http://127.0.0.1:9/a","events":["contact.*","deal.created"],
		"auth":{"type":"basic","username":"u","password":"pw-kept-1"},"headers":{"X-Api-Key":"key-kept-2"},"retry":{"schedule":["1s","5s"]},"lists":["7"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, m)
	}
	id := m["id"].(string)
	b := newBrowser(t, h.APIURL())
	b.signIn(opToken)
	_, page := b.do("GET", "/console/webhooks/"+id+"/edit", nil)
	if strings.Contains(page, "pw-kept-1") || strings.Contains(page, "key-kept-2") {
		t.Fatal("the edit form holds the password or the header value")
	}
	if !strings.Contains(page, `value="contact.*" data-category-all checked`) || !strings.Contains(page, `value="deal.created" checked`) {
		t.Errorf("the form does not show the webhook's events checked")
	}
	resp, body := b.do("POST", "/console/webhooks/"+id, url.Values{"csrf": {csrfOf(t, page)}, "name": {"second"}, "url": {"http://127.0.0.1:9/a"},
		"category": {"contact.*"}, "events": {"deal.created"}, "active": {"on"}, "auth_type": {"basic"}, "username": {"u"}, "password": {""},
		"header_name": {"X-Api-Key"}, "header_value": {""}, "lists": {"7, 8"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	wh := h.Snapshot().Get(id)
	if wh.Name != "second" || wh.Auth.Password.Reveal() != "pw-kept-1" || wh.Headers["X-Api-Key"] != "key-kept-2" {
		t.Errorf("after the edit: name %q, password kept %v, header kept %v", wh.Name, wh.Auth.Password.Reveal() == "pw-kept-1", wh.Headers["X-Api-Key"] == "key-kept-2")
	}
	if wh.Retry == nil || len(wh.Retry.Schedule) != 2 || fmt.Sprint(wh.Events) != "[contact.* deal.created]" || fmt.Sprint(wh.Lists) != "[7 8]" {
		t.Errorf("after the edit: retry %+v, events %v, lists %v", wh.Retry, wh.Events, wh.Lists)
	}
	// Moving the URL needs the credentials again: the API says so, beside a field.
	_, page = b.do("GET", "/console/webhooks/"+id+"/edit", nil)
	resp, body = b.do("POST", "/console/webhooks/"+id, url.Values{"csrf": {csrfOf(t, page)}, "name": {"second"}, "url": {"http://127.0.0.1:9/elsewhere"},
		"events": {"deal.created"}, "active": {"on"}, "auth_type": {"basic"}, "username": {"u"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="auth-error"`) {
		t.Errorf("moving the URL with the password kept: %d, want 422 with the error beside auth\n%s", resp.StatusCode, body)
	}
	if h.Snapshot().Get(id).URL != "http://127.0.0.1:9/a" {
		t.Error("the URL moved")
	}
}

// TestConsoleUsageAndLimit: at the account's limit, Add is disabled.
func TestConsoleUsageAndLimit(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	for i := range 3 {
		if code, m := apiJSON(t, h, "POST", "/v1/webhooks", fmt.Sprintf(`{"account":"acme","url":"http://127.0.0.1:9/%d","events":["contact.created"]}`, i)); code != http.StatusCreated {
			t.Fatalf("create %d: %d %v", i, code, m)
		}
	}
	page := b.signIn(opToken)
	if !strings.Contains(page, "<strong>3 of 3</strong>") {
		t.Errorf("no 3 of 3 usage:\n%s", page)
	}
	if !regexp.MustCompile(`<button type="button" class="primary" disabled aria-describedby="usage-acme">Add a webhook</button>`).MatchString(page) {
		t.Error("Add is not disabled at the limit")
	}
	if strings.Contains(page, `href="/console/webhooks/new?account=acme"`) {
		t.Error("acme's Add link is there at the limit")
	}
	if !strings.Contains(page, `href="/console/webhooks/new?account=globex"`) {
		t.Error("globex, under its limit, has no Add link")
	}
}

// TestConsoleShowsDisabledByTheHub: a receiver answering 410 Gone disables
// the webhook; the list says so, with the reason and since when, and offers
// Enable.
func TestConsoleShowsDisabledByTheHub(t *testing.T) {
	h := startHub(t)
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
	code, m := apiJSON(t, h, "POST", "/v1/webhooks", `{"account":"acme","name":"gone","url":"`+rc.URL+`/x","events":["contact.created"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, m)
	}
	id := m["id"].(string)
	if code, m := apiJSON(t, h, "POST", "/v1/events", `{"specversion":"1.0","id":"e1","source":"t","type":"contact.created","account":"acme","data":{"email":"a@example.com"}}`); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, m)
	}
	rc.WaitFor(t, 1, 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for !h.WebhookHealth(id).Disabled {
		if time.Now().After(deadline) {
			t.Fatal("the webhook was not disabled within 20s of a 410")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b := newBrowser(t, h.APIURL())
	page := b.signIn(opToken)
	if !regexp.MustCompile(`Disabled by the hub</span><br><span class="help">the receiver answered 410 Gone, since \d{4}-\d\d-\d\d \d\d:\d\d UTC`).MatchString(page) {
		t.Errorf("the list does not say disabled, why and since when:\n%s", page)
	}
	resp, _ := b.do("POST", "/console/webhooks/"+id+"/enable", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || h.WebhookHealth(id).Disabled {
		t.Errorf("enable: %d, still disabled: %v", resp.StatusCode, h.WebhookHealth(id).Disabled)
	}
}

// TestConsoleWithoutTokenOnLoopback: a hub with no token (so its API is on
// loopback only) lets the console sign in without one, as the API does; a
// test sent without script answers with a page of its own.
func TestConsoleWithoutTokenOnLoopback(t *testing.T) {
	h := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","accounts":[{"id":"acme"}]}`, nil)
	rc := hubtest.NewReceiver(t)
	b := newBrowser(t, h.APIURL())
	_, page := b.do("GET", "/console/signin", nil)
	if strings.Contains(page, `name="token"`) {
		t.Error("the sign-in asks for a token the hub does not have")
	}
	resp, _ := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in without a token: %d", resp.StatusCode)
	}
	_, list := b.do("GET", "/console/webhooks", nil)
	resp, made := b.do("POST", "/console/webhooks", url.Values{"csrf": {csrfOf(t, list)}, "account": {"acme"}, "url": {rc.URL + "/t"},
		"events": {"contact.created"}, "active": {"on"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d\n%s", resp.StatusCode, made)
	}
	id := h.Snapshot().Account("acme")[0].ID
	resp, res := b.do("POST", "/console/webhooks/"+id+"/test", url.Values{"csrf": {csrfOf(t, list)}, "event_type": {"contact.created"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(res, `<strong class="status">200</strong>`) || !strings.Contains(res, "<html") {
		t.Errorf("a test sent without script: %d\n%s", resp.StatusCode, res)
	}
	if rc.Count() != 1 {
		t.Errorf("the receiver got %d requests, want 1", rc.Count())
	}
}

// BenchmarkConsoleList40 draws the webhooks page of an account at its
// default limit of 40, through the real API of a hub, over loopback.
func BenchmarkConsoleList40(b *testing.B) {
	h := hubtest.StartHub(b, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,"accounts":[{"id":"acme"}]}`, opToken), nil)
	for i := range 40 {
		req, _ := http.NewRequest("POST", h.APIURL()+"/v1/webhooks", strings.NewReader(fmt.Sprintf(
			`{"account":"acme","name":"hook %d","url":"https://hooks%d.example.com/in","events":["contact.*","email.hard_bounced","deal.created","sms.sent"],"auth":{"type":"basic","username":"u","password":"p"}}`, i, i)))
		req.Header.Set("Authorization", "Bearer "+opToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("create %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
	br := newBrowser(b, h.APIURL())
	br.signIn(opToken)
	b.ResetTimer()
	for range b.N {
		resp, body := br.do("GET", "/console/webhooks", nil)
		if resp.StatusCode != http.StatusOK || strings.Count(body, "data-webhook=") != 40 {
			b.Fatalf("list: %d, %d rows", resp.StatusCode, strings.Count(body, "data-webhook="))
		}
	}
}
