package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
)

// failingReceiver answers 500 to a request whose body names an event id in
// fail (while failing is set), 200 to the others.
func failingReceiver(t *testing.T, fail ...string) (*hubtest.Receiver, *atomic.Bool) {
	rc := hubtest.NewReceiver(t)
	failing := &atomic.Bool{}
	failing.Store(true)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		for _, f := range fail {
			if failing.Load() && strings.HasPrefix(id, f+":") {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte("receiver down for " + f))
				return
			}
		}
		_, _ = w.Write([]byte("ok " + id))
	})
	return rc, failing
}

// logHub starts a hub as startHub does, with webhooks (id and account
// pairs) of the config file on rc, with no retries (a failure is a dead
// letter at once).
func logHub(t *testing.T, rc *hubtest.Receiver, hooks ...[2]string) *hub.Hub {
	t.Helper()
	var whs []string
	for _, wh := range hooks {
		whs = append(whs, fmt.Sprintf(`{"id":%q,"account":%q,"name":"Log %s","url":%q,"secret":%q,
			"events":["contact.created","deal.created"],"retry":{"schedule":[]}}`, wh[0], wh[1], wh[0], rc.URL+"/"+wh[0], hubtest.Secret))
	}
	return hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}],"webhooks":[%s]}`, opToken, acmeToken, strings.Join(whs, ",")), nil)
}

// publishLogged publishes event id of typ to account and waits until the
// log holds n attempts of webhook wh, so the log's order is the publish order.
func publishLogged(t *testing.T, h *hub.Hub, account, id, typ, wh string, n int) {
	t.Helper()
	data := `{"email":"a@example.com"}`
	if typ == "deal.created" {
		data = `{"id":"1","title":"d"}`
	}
	if code, m := apiJSON(t, h, "POST", "/v1/events", fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"t","type":%q,"account":%q,"data":%s}`, id, typ, account, data)); code != http.StatusAccepted {
		t.Fatalf("publish %s: %d %v", id, code, m)
	}
	waitAttempts(t, h, wh, n)
}

func waitAttempts(t *testing.T, h *hub.Hub, wh string, n int) {
	t.Helper()
	hubtest.Eventually(t, 20*time.Second, fmt.Sprintf("%d attempts of %s in the log", n, wh), func() bool {
		code, m := apiJSON(t, h, "GET", "/v1/webhooks/"+wh+"/attempts?limit=500", "")
		d, _ := m["data"].([]any)
		return code == http.StatusOK && len(d) >= n
	})
}

// waitDead waits until webhook wh has n dead letters, and returns them.
func waitDead(t *testing.T, h *hub.Hub, wh string, n int) []any {
	t.Helper()
	var d []any
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, m := apiJSON(t, h, "GET", "/v1/webhooks/"+wh+"/dead-letters", "")
		if d, _ = m["data"].([]any); len(d) == n {
			return d
		}
		if time.Now().After(deadline) {
			_, a := apiJSON(t, h, "GET", "/v1/webhooks/"+wh+"/attempts", "")
			t.Fatalf("%s has %d dead letters, want %d; its attempts: %v", wh, len(d), n, a)
		}
	}
}

var rowRe = regexp.MustCompile(`<tr class="(?:attempt|letter)" data-seq="\d+" data-event="([^"]*)"`)

// rows are the event ids of a log page's rows, in order.
func rows(page string) []string {
	var out []string
	for _, m := range rowRe.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

var olderRe = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next">Older</a>`)

func olderOf(page string) string {
	if m := olderRe.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// TestConsoleLogsListFilterAndPage: real deliveries (one failing into the
// dead letters) are listed newest first with their figures; the outcome,
// type and time filters work as a plain GET form; "Older" pages by the
// API's cursor to the oldest; a failure's details show the receiver's
// answer and the masked request headers; event ids link to the event.
func TestConsoleLogsListFilterAndPage(t *testing.T) {
	rc, _ := failingReceiver(t, "e3")
	h := logHub(t, rc, [2]string{"wh_logs", "acme"})
	for i, typ := range []string{"contact.created", "contact.created", "contact.created", "deal.created", "contact.created"} {
		publishLogged(t, h, "acme", fmt.Sprintf("e%d", i+1), typ, "wh_logs", i+1)
	}
	b := newBrowser(t, h.APIURL())
	list := b.signIn(acmeToken)
	if !strings.Contains(list, `href="/console/webhooks/wh_logs/logs"`) {
		t.Fatal("the webhooks list has no Logs link for wh_logs")
	}

	resp, page := b.do("GET", "/console/webhooks/wh_logs/logs?limit=2", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logs: %d\n%s", resp.StatusCode, page)
	}
	var all []string
	for i := 0; ; i++ {
		all = append(all, rows(page)...)
		next := olderOf(page)
		if next == "" {
			break
		}
		if i > 5 {
			t.Fatal("Older never ends")
		}
		_, page = b.do("GET", next, nil)
	}
	if got := strings.Join(all, " "); got != "e5 e4 e3 e2 e1" {
		t.Errorf("the pages by Older list %q, want e5 e4 e3 e2 e1 (newest first, each once)", got)
	}

	_, page = b.do("GET", "/console/webhooks/wh_logs/logs", nil)
	if !regexp.MustCompile(`<tr id="stats-hour"><th scope="row">Last hour</th><td>4</td><td>1</td><td>1</td>`).MatchString(page) {
		t.Errorf("the last hour's figures are not 4 delivered, 1 failed, 1 dead-lettered:\n%s", page)
	}
	if !strings.Contains(page, `<a class="mono" href="/console/events/e3?account=acme">e3</a>`) {
		t.Error("the event id does not link to the event's attempts")
	}
	if !strings.Contains(page, "receiver down for e3") || !strings.Contains(page, "<dt>Webhook-Signature</dt>") && !strings.Contains(page, "<dt>webhook-signature</dt>") {
		t.Error("the failure's details lack the response excerpt or the request headers")
	}
	if strings.Contains(page, hubtest.Secret) {
		t.Error("the page holds the signing secret")
	}

	for _, c := range []struct{ query, want string }{
		{"outcome=dead", "e3"},
		{"outcome=delivered", "e5 e4 e2 e1"},
		{"event_type=deal.created", "e4"},
		{"since=" + url.QueryEscape(time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")), ""},
		{"until=" + url.QueryEscape(time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")) + "&outcome=dead", "e3"},
	} {
		_, page := b.do("GET", "/console/webhooks/wh_logs/logs?"+c.query, nil)
		if got := strings.Join(rows(page), " "); got != c.want {
			t.Errorf("filter %s: rows %q, want %q", c.query, got, c.want)
		}
	}
	// The filter form keeps what was chosen, and the API judges a bad value.
	_, page = b.do("GET", "/console/webhooks/wh_logs/logs?outcome=dead", nil)
	if !strings.Contains(page, "<option selected>dead</option>") {
		t.Error("the outcome filter does not show its choice")
	}
	resp, page = b.do("GET", "/console/webhooks/wh_logs/logs?outcome=lost", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<p class="error" role="alert">`) || len(rows(page)) != 0 {
		t.Errorf("an outcome the API refuses: %d, rows %v, want its error above the form", resp.StatusCode, rows(page))
	}
}

// TestConsoleLogsRedriveAndResend: a dead letter is listed with its reason;
// redriving it (CSRF form) delivers it again; a time range is redriven
// with the since/until form; an event's page lists its attempts across
// webhooks and "Resend to this webhook" delivers it again.
func TestConsoleLogsRedriveAndResend(t *testing.T) {
	rc, failing := failingReceiver(t, "e1", "e2", "e3")
	h := logHub(t, rc, [2]string{"wh_dl", "acme"}, [2]string{"wh_other", "acme"})
	for i := 1; i <= 3; i++ {
		publishLogged(t, h, "acme", fmt.Sprintf("e%d", i), "contact.created", "wh_dl", i)
	}
	waitAttempts(t, h, "wh_other", 3)
	waitDead(t, h, "wh_dl", 3)
	failing.Store(false)
	b := newBrowser(t, h.APIURL())
	b.signIn(acmeToken)

	_, page := b.do("GET", "/console/webhooks/wh_dl/dead-letters", nil)
	if got := strings.Join(rows(page), " "); got != "e3 e2 e1" {
		t.Fatalf("dead letters %q, want e3 e2 e1\n%s", got, page)
	}
	if !strings.Contains(page, `<td data-label="Reason" class="reason">`) || !strings.Contains(page, "500") {
		t.Error("the dead letters do not show their reason")
	}
	seq := regexp.MustCompile(`action="/console/webhooks/wh_dl/dead-letters/(\d+)/redrive"`).FindStringSubmatch(page)
	if seq == nil {
		t.Fatal("no redrive form")
	}
	// Without its CSRF token the redrive is refused.
	if resp, _ := b.do("POST", "/console/webhooks/wh_dl/dead-letters/"+seq[1]+"/redrive", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a redrive without CSRF: %d, want 403", resp.StatusCode)
	}
	before := rc.Count()
	resp, _ := b.do("POST", "/console/webhooks/wh_dl/dead-letters/"+seq[1]+"/redrive", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redrive one: %d", resp.StatusCode)
	}
	got := rc.WaitFor(t, before+1, 20*time.Second)
	if id := got[len(got)-1].Header.Get("webhook-id"); id != "e3:wh_dl" {
		t.Errorf("the redrive delivered %q, want e3:wh_dl", id)
	}
	_, page = b.do("GET", "/console/webhooks/wh_dl/dead-letters", nil)
	if !strings.Contains(page, "The dead letter is redriven") || strings.Join(rows(page), " ") != "e2 e1" {
		t.Errorf("after the redrive: rows %v, want e2 e1 and the flash", rows(page))
	}

	// The range: since before e1 to a minute ahead redrives e1 and e2.
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	until := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	before = rc.Count()
	resp, _ = b.do("POST", "/console/webhooks/wh_dl/dead-letters/redrive", url.Values{"csrf": {csrfOf(t, page)}, "since": {since}, "until": {until}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redrive the range: %d", resp.StatusCode)
	}
	ids := map[string]bool{}
	for _, q := range rc.WaitFor(t, before+2, 20*time.Second)[before:] {
		ids[q.Header.Get("webhook-id")] = true
	}
	if !ids["e1:wh_dl"] || !ids["e2:wh_dl"] {
		t.Errorf("the range redrive delivered %v, want e1:wh_dl and e2:wh_dl", ids)
	}
	_, page = b.do("GET", "/console/webhooks/wh_dl/dead-letters", nil)
	if !strings.Contains(page, "2 dead letters redriven.") || len(rows(page)) != 0 {
		t.Errorf("after the range redrive: rows %v, want none and the count", rows(page))
	}

	// The event across its webhooks, and a resend to one of them.
	_, page = b.do("GET", "/console/events/e2?account=acme", nil)
	if !strings.Contains(page, `href="/console/webhooks/wh_dl/logs"`) || !strings.Contains(page, `href="/console/webhooks/wh_other/logs"`) {
		t.Fatalf("the event's page does not list both webhooks' attempts:\n%s", page)
	}
	before = rc.Count()
	resp, _ = b.do("POST", "/console/webhooks/wh_other/resend", url.Values{"csrf": {csrfOf(t, page)}, "event_id": {"e2"}, "account": {"acme"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/events/e2?account=acme" {
		t.Fatalf("resend: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	got = rc.WaitFor(t, before+1, 20*time.Second)
	if id := got[len(got)-1].Header.Get("webhook-id"); id != "e2:wh_other" || got[len(got)-1].Path != "/wh_other" {
		t.Errorf("the resend delivered %q to %s, want e2:wh_other", id, got[len(got)-1].Path)
	}
	if _, page = b.do("GET", "/console/events/e2?account=acme", nil); !strings.Contains(page, "queued again") {
		t.Error("no word that the event is queued again")
	}
}

// TestConsoleLogsDisabledBanner: a webhook the hub disabled (410 Gone)
// shows a banner with the reason and offers to enable it and recover the
// dead letters since it failed; that redelivers them.
func TestConsoleLogsDisabledBanner(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	gone := &atomic.Bool{}
	gone.Store(true)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
		}
	})
	h := logHub(t, rc, [2]string{"wh_gone", "acme"})
	publishLogged(t, h, "acme", "g1", "contact.created", "wh_gone", 1)
	hubtest.Eventually(t, 20*time.Second, "wh_gone disabled", func() bool { return h.WebhookHealth("wh_gone").Disabled })
	for _, id := range []string{"g2", "g3"} {
		if code, m := apiJSON(t, h, "POST", "/v1/events", `{"specversion":"1.0","id":"`+id+`","source":"t","type":"contact.created","account":"acme","data":{"email":"a@example.com"}}`); code != http.StatusAccepted {
			t.Fatalf("publish: %d %v", code, m)
		}
	}
	waitDead(t, h, "wh_gone", 3)
	gone.Store(false)
	b := newBrowser(t, h.APIURL())
	b.signIn(opToken)
	_, page := b.do("GET", "/console/webhooks/wh_gone/logs", nil)
	if !strings.Contains(page, `<section class="banner" role="alert"`) || !strings.Contains(page, "410") {
		t.Fatalf("no disabled banner with the reason:\n%s", page)
	}
	if !strings.Contains(page, "Enable and recover the 3 dead letters since it failed") {
		t.Fatalf("the banner does not offer to recover the 3 dead letters:\n%s", page)
	}
	before := rc.Count()
	resp, _ := b.do("POST", "/console/webhooks/wh_gone/logs/enable", url.Values{"csrf": {csrfOf(t, page)}, "recover": {"true"}})
	if resp.StatusCode != http.StatusSeeOther || h.WebhookHealth("wh_gone").Disabled {
		t.Fatalf("enable and recover: %d, still disabled %v", resp.StatusCode, h.WebhookHealth("wh_gone").Disabled)
	}
	ids := map[string]bool{}
	for _, q := range rc.WaitFor(t, before+3, 20*time.Second)[before:] {
		ids[q.Header.Get("webhook-id")] = true
	}
	if len(ids) != 3 {
		t.Errorf("the recovery delivered %v, want g1, g2, g3", ids)
	}
	_, page = b.do("GET", "/console/webhooks/wh_gone/logs", nil)
	if strings.Contains(page, `class="banner"`) || !strings.Contains(page, "3 dead letters redriven.") {
		t.Error("after the recovery: the banner stays, or no count of the redriven")
	}
}

// TestConsoleLogsOtherAccountCannotSeeOrRedrive: acme's session attacks
// globex's webhook log by its ids: every page is not found, nothing is
// redriven or resent, and nothing of globex's log shows.
func TestConsoleLogsOtherAccountCannotSeeOrRedrive(t *testing.T) {
	rc, failing := failingReceiver(t, "secret-evt")
	h := logHub(t, rc, [2]string{"wh_globex", "globex"})
	publishLogged(t, h, "globex", "secret-evt", "contact.created", "wh_globex", 1)
	failing.Store(false)
	d := waitDead(t, h, "wh_globex", 1)
	seq := fmt.Sprint(int64(d[0].(map[string]any)["seq"].(float64)))

	b := newBrowser(t, h.APIURL())
	list := b.signIn(acmeToken)
	csrf := csrfOf(t, list)
	for _, p := range []string{"/console/webhooks/wh_globex/logs", "/console/webhooks/wh_globex/logs?outcome=dead",
		"/console/webhooks/wh_globex/dead-letters", "/console/events/secret-evt?account=globex", "/console/events/secret-evt"} {
		resp, page := b.do("GET", p, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "Not found") || strings.Contains(page, "secret-evt") && !strings.Contains(p, "secret-evt") {
			t.Errorf("acme GET %s: %d, want 404 not found showing nothing of globex", p, resp.StatusCode)
		}
		if strings.Contains(page, "receiver down") {
			t.Errorf("acme GET %s shows globex's log", p)
		}
	}
	before := rc.Count()
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/console/webhooks/wh_globex/dead-letters/" + seq + "/redrive", url.Values{}},
		{"/console/webhooks/acme-any/dead-letters/" + seq + "/redrive", url.Values{}}, // globex's letter under any path
		{"/console/webhooks/wh_globex/dead-letters/redrive", url.Values{}},
		{"/console/webhooks/wh_globex/resend", url.Values{"event_id": {"secret-evt"}}},
		{"/console/webhooks/wh_globex/logs/enable", url.Values{"recover": {"true"}}},
	} {
		c.form.Set("csrf", csrf)
		resp, page := b.do("POST", c.path, c.form)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "Not found") {
			t.Errorf("acme POST %s: %d, want 404 not found", c.path, resp.StatusCode)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if rc.Count() != before {
		t.Errorf("acme's posts made %d deliveries to globex's receiver", rc.Count()-before)
	}
	if _, m := apiJSON(t, h, "GET", "/v1/webhooks/wh_globex/dead-letters", ""); len(m["data"].([]any)) != 1 {
		t.Error("globex's dead letter left the listing")
	}
}
