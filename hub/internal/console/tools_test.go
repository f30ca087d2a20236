package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

const testPass = "tool-pass-0123456789"

// fieldError is the text of the error shown beside field id, or "".
func fieldError(page, id string) string {
	m := regexp.MustCompile(`(?s)<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error"[^>]*>(.*?)</p>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestConsoleTestScreen: the Test screen, linked from the list and the
// detail, offers the webhook's types first and the rest of the catalog,
// prefilled with the type's sample; a payload that is not JSON, an unknown
// type or data the type's schema refuses is shown beside its field and
// sends nothing; an edited payload is sent and the request (credentials
// masked), the response's status, headers and body, and the latency shown.
func TestConsoleTestScreen(t *testing.T) {
	h := startHub(t)
	var got atomic.Int32
	var lastBody atomic.Value
	receiver := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		body, _ := io.ReadAll(r.Body)
		lastBody.Store(string(body))
		w.Header().Set("X-Receiver-Trace", "trace-42")
		w.Header().Set("Set-Cookie", "rsession=cookie-secret-1")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("accepted by the receiver"))
	}))
	st, made := apiJSON(t, h, "POST", "/v1/webhooks", fmt.Sprintf(`{"account":"acme","name":"Tested","url":%q,
		"events":["contact.*"],"auth":{"type":"basic","username":"u","password":%q}}`, receiver+"/in", testPass))
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, made)
	}
	id := made["id"].(string)
	_, sample := apiJSON(t, h, "GET", "/v1/event-types/contact.created", "")
	sampleData, _ := sample["sample"].(map[string]any)
	sampleEmail, _ := sampleData["email"].(string)
	if sampleEmail == "" {
		t.Fatalf("contact.created's sample has no email: %v", sample)
	}

	b := newBrowser(t, h.APIURL())
	list := b.signIn(opToken)
	if !strings.Contains(list, `href="/console/webhooks/`+id+`/test"`) {
		t.Error("the list does not link the Test screen")
	}
	if _, detail := b.do("GET", "/console/webhooks/"+id, nil); !strings.Contains(detail, `href="/console/webhooks/`+id+`/test"`) ||
		!strings.Contains(detail, `href="/console/webhooks/`+id+`/preview"`) {
		t.Error("the detail does not link the Test and Plugin preview screens")
	}
	resp, page := b.do("GET", "/console/webhooks/"+id+"/test?type=contact.created", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("test screen: %d\n%s", resp.StatusCode, page)
	}
	sub := page[strings.Index(page, "Subscribed by this webhook"):strings.Index(page, "Other types of the catalog")]
	if !strings.Contains(sub, "<option selected>contact.created</option>") || strings.Contains(sub, "email.clicked") {
		t.Errorf("the subscribed types: %s", sub)
	}
	if !strings.Contains(page[strings.Index(page, "Other types of the catalog"):], "<option>email.clicked</option>") {
		t.Error("the other catalog types are not offered")
	}
	if !strings.Contains(page, sampleEmail) {
		t.Errorf("the payload is not prefilled with the sample (%s)", sampleEmail)
	}
	csrf := csrfOf(t, page)
	send := func(typ, payload, action string) (*http.Response, string) {
		return b.do("POST", "/console/webhooks/"+id+"/test", url.Values{"csrf": {csrf}, "event_type": {typ}, "payload": {payload}, "action": {action}})
	}

	// Wrong input: beside its field, nothing sent.
	resp, page = send("contact.created", "{\n  \"email\": \"a@example.com\",\n  oops\n}", "send")
	if e := fieldError(page, "payload"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(e, "Not valid JSON") || !strings.Contains(e, "line 3") {
		t.Errorf("a payload that is not JSON: %d, error %q", resp.StatusCode, e)
	}
	resp, page = send("contact.nope", `{}`, "send")
	if e := fieldError(page, "event_type"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(e, `"contact.nope" is neither in the catalog`) {
		t.Errorf("an unknown type: %d, error %q", resp.StatusCode, e)
	}
	resp, page = send("contact.created", `{"email": 12}`, "send")
	if e := fieldError(page, "payload"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(e, "data.email") {
		t.Errorf("data the schema refuses: %d, error %q\n%s", resp.StatusCode, e, page)
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("wrong input sent %d requests", n)
	}
	// Another type's sample, on request.
	_, clicked := apiJSON(t, h, "GET", "/v1/event-types/email.clicked", "")
	clickedSubject, _ := clicked["sample"].(map[string]any)["subject"].(string)
	if _, page = send("email.clicked", `{}`, "load"); clickedSubject == "" || !strings.Contains(page, clickedSubject) || !strings.Contains(page, "<option selected>email.clicked</option>") {
		t.Errorf("loading email.clicked's sample (subject %q) did not fill it in", clickedSubject)
	}
	if got.Load() != 0 {
		t.Fatal("loading a sample sent a request")
	}

	// An edited payload is sent; the answer is shown whole.
	resp, page = send("contact.created", `{"email":"edited@example.com","attributes":{"FIRSTNAME":"Edited"}}`, "send")
	if resp.StatusCode != http.StatusOK || got.Load() != 1 {
		t.Fatalf("send: %d, %d requests\n%s", resp.StatusCode, got.Load(), page)
	}
	if body, _ := lastBody.Load().(string); !strings.Contains(body, "edited@example.com") {
		t.Errorf("the receiver got %q, not the edited payload", body)
	}
	for _, want := range []string{
		`id="r-status">202<`, " ms</strong>",
		`id="req-line">POST ` + receiver + `/in<`,
		"<dt>Authorization</dt><dd>Basic [redacted]</dd>", "<dt>Hookhub-Test</dt><dd>true</dd>",
		"edited@example.com",
		"<dt>X-Receiver-Trace</dt><dd>trace-42</dd>", "<dt>Set-Cookie</dt><dd>[redacted]</dd>",
		"accepted by the receiver",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the result lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`id="r-latency">([0-9.]+) ms<`).FindStringSubmatch(page); m == nil || m[1] == "0.0" {
		t.Errorf("the latency is not shown: %v", m)
	}
	for _, secret := range []string{testPass, "cookie-secret-1", h.Snapshot().Get(id).Secret.Reveal()} {
		if strings.Contains(page, secret) {
			t.Errorf("the result page holds the secret %q", secret)
		}
	}
	// The row's own quick test still works.
	if resp, page := b.do("POST", "/console/webhooks/"+id+"/test", url.Values{"csrf": {csrf}, "event_type": {"contact.created"}}); resp.StatusCode != http.StatusOK ||
		!strings.Contains(page, `class="status">202<`) || got.Load() != 2 {
		t.Errorf("the row's send test: %d, %d requests", resp.StatusCode, got.Load())
	}
}

// TestConsoleToolsRefuseAnotherAccount: a session of acme's token, and a
// portal session of acme, neither open nor use the Test and Plugin preview
// screens of a globex webhook; nothing is sent to it.
func TestConsoleToolsRefuseAnotherAccount(t *testing.T) {
	h := startHub(t)
	rc := hubtest.NewReceiver(t)
	st, made := apiJSON(t, h, "POST", "/v1/webhooks", fmt.Sprintf(`{"account":"globex","name":"Theirs","url":%q,"events":["contact.*"]}`, rc.URL))
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, made)
	}
	id := made["id"].(string)
	acme := newBrowser(t, h.APIURL())
	acme.signIn(acmeToken)
	portal, _ := enterPortal(t, h, "acme", `{}`)
	for name, b := range map[string]struct {
		b    *browser
		base string
	}{"acme's token": {acme, "/console/"}, "acme's portal": {portal, "/portal/"}} {
		for _, screen := range []string{"test", "preview"} {
			resp, page := b.b.do("GET", b.base+"webhooks/"+id+"/"+screen, nil)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(page, "Theirs") {
				t.Errorf("%s opens globex's %s screen: %d", name, screen, resp.StatusCode)
			}
		}
		_, own := b.b.do("GET", b.base+"webhooks", nil)
		csrf := csrfOf(t, own)
		resp, page := b.b.do("POST", b.base+"webhooks/"+id+"/test", url.Values{"csrf": {csrf}, "event_type": {"contact.created"}, "payload": {`{"email":"x@example.com"}`}})
		if resp.StatusCode != http.StatusNotFound || strings.Contains(page, "Theirs") {
			t.Errorf("%s test-sends to globex's webhook: %d", name, resp.StatusCode)
		}
		resp, _ = b.b.do("POST", b.base+"webhooks/"+id+"/preview", url.Values{"csrf": {csrf}, "other_event_id": {"evt_x"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s previews globex's webhook: %d", name, resp.StatusCode)
		}
	}
	// The portal opens its own account's screens, its forms posting to the portal.
	own := makeHook(t, h, "acme", "Ours")
	for _, screen := range []string{"test", "preview"} {
		resp, page := portal.do("GET", "/portal/webhooks/"+own+"/"+screen, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/portal/webhooks/`+own+`/`+screen+`"`) {
			t.Errorf("acme's portal, its own webhook's %s screen: %d\n%s", screen, resp.StatusCode, page)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(rc.Requests()); n != 0 {
		t.Errorf("globex's receiver got %d requests", n)
	}
}

// TestConsolePreviewScreen: the preview of a stored event, picked from the
// webhook's recent events or typed, is the request its plugin builds (the
// form plugin: a form-encoded body), the same the delivery sent; an event
// the plugin drops says so; the plugin's error is shown as such; an id the
// archive does not keep is an error beside the field.
func TestConsolePreviewScreen(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"accounts":[{"id":"acme","webhook_limit":5,"api_token":%q}]}`, opToken, acmeToken), nil)
	mk := func(body string) string {
		st, made := apiJSON(t, h, "POST", "/v1/webhooks", body)
		if st != http.StatusCreated {
			t.Fatalf("create: %d %v", st, made)
		}
		return made["id"].(string)
	}
	form := mk(fmt.Sprintf(`{"account":"acme","name":"Form","url":%q,"events":["contact.*"],"plugin":{"name":"form"}}`, rc.URL+"/form"))
	pro := mk(fmt.Sprintf(`{"account":"acme","name":"Pro","url":%q,"events":["email.*"],"plugin":{"name":"mapper","config":{"filter":{"field":"data.attributes.PLAN","equals":"pro"}}}}`, rc.URL+"/pro"))
	// A filter condition without a test passes the config's schema, and fails in the plugin.
	broken := mk(fmt.Sprintf(`{"account":"acme","name":"Broken","url":%q,"events":["email.*"],"retry":{"schedule":[]},"plugin":{"name":"mapper","config":{"filter":{"field":"data.email"}}}}`, rc.URL+"/broken"))
	if st, m := apiJSON(t, h, "POST", "/v1/events", `{"id":"evt_form_1","type":"contact.updated","source":"crm","account":"acme","data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}}`); st != http.StatusAccepted {
		t.Fatalf("publish: %d %v", st, m)
	}
	if st, m := apiJSON(t, h, "POST", "/v1/events", `{"id":"evt_free_1","type":"email.clicked","source":"crm","account":"acme","data":{"email":"bob@example.com","url":"https://example.com/x","attributes":{"PLAN":"free"}}}`); st != http.StatusAccepted {
		t.Fatalf("publish: %d %v", st, m)
	}
	delivered := rc.WaitFor(t, 1, 10*time.Second)[0]
	waitAttempts(t, h, form, 1)
	waitAttempts(t, h, pro, 1)

	b := newBrowser(t, h.APIURL())
	b.signIn(acmeToken)
	resp, page := b.do("GET", "/console/webhooks/"+form+"/preview", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<option value="evt_form_1">contact.updated · evt_form_1`) || !strings.Contains(page, `id="p-plugin">form<`) {
		t.Fatalf("preview screen: %d\n%s", resp.StatusCode, page)
	}
	csrf := csrfOf(t, page)
	resp, page = b.do("POST", "/console/webhooks/"+form+"/preview", url.Values{"csrf": {csrf}, "event_id": {"evt_form_1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `id="p-line">POST `+rc.URL+`/form<`) || !strings.Contains(page, "<dt>Content-Type</dt><dd>application/x-www-form-urlencoded</dd>") {
		t.Errorf("the preview is not the form plugin's request:\n%s", page)
	}
	body := regexp.MustCompile(`(?s)id="p-body"[^>]*>(.*?)</pre>`).FindStringSubmatch(page)
	if body == nil || body[1] != string(delivered.Body) || !strings.Contains(body[1], "contact[email]=ada%40example.com") {
		t.Errorf("the previewed body %q, the delivery sent %q", body, delivered.Body)
	}
	if strings.Contains(page, `id="p-nomatch"`) || strings.Contains(page, `id="p-skipped"`) {
		t.Error("a matching, sent event is shown as not matching or skipped")
	}

	// Typed; dropped by the mapper's filter.
	resp, page = b.do("POST", "/console/webhooks/"+pro+"/preview", url.Values{"csrf": {csrf}, "other_event_id": {"evt_free_1"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="p-skipped"`) || strings.Contains(page, `id="p-line"`) {
		t.Errorf("a dropped event: %d\n%s", resp.StatusCode, page)
	}
	// The plugin fails: its error, shown as the plugin's.
	resp, page = b.do("POST", "/console/webhooks/"+broken+"/preview", url.Values{"csrf": {csrf}, "other_event_id": {"evt_free_1"}})
	if m := regexp.MustCompile(`id="p-error">([^<]*)<`).FindStringSubmatch(page); resp.StatusCode != http.StatusUnprocessableEntity || m == nil || !strings.Contains(m[1], "has no test") ||
		!strings.Contains(page, "<h2>Plugin error</h2>") || strings.Contains(page, `id="p-line"`) {
		t.Errorf("a failing plugin: %d, error %v\n%s", resp.StatusCode, m, page)
	}
	// An id the archive does not keep: beside the field.
	resp, page = b.do("POST", "/console/webhooks/"+form+"/preview", url.Values{"csrf": {csrf}, "other_event_id": {"evt_never"}})
	if e := fieldError(page, "event"); resp.StatusCode != http.StatusNotFound || !strings.Contains(e, "evt_never") {
		t.Errorf("an unknown event: %d, error %q", resp.StatusCode, e)
	}
	resp, page = b.do("POST", "/console/webhooks/"+form+"/preview", url.Values{"csrf": {csrf}})
	if e := fieldError(page, "event"); resp.StatusCode != http.StatusUnprocessableEntity || e == "" {
		t.Errorf("no event: %d, error %q", resp.StatusCode, e)
	}
	// Without its CSRF token: refused.
	if resp, _ := b.do("POST", "/console/webhooks/"+form+"/preview", url.Values{"event_id": {"evt_form_1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a preview without its CSRF token: %d, want 403", resp.StatusCode)
	}
}
