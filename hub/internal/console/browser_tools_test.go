package console_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestBrowserTestAndPreview opens the Test screen from the webhook's row,
// changes the type (its sample loads), edits the payload, sends it to a
// receiver that sets a response header, and sees the status, that header
// and the latency; a payload that is not JSON is refused beside the field
// with nothing sent. Then the Plugin preview, from the detail, shows the
// form plugin's request for the delivered event. Both at 1280 and 390 px.
func TestBrowserTestAndPreview(t *testing.T) {
	c := startChrome(t)
	h := startHub(t)
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Receiver-Trace", "trace-"+strconv.Itoa(n))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"received":true}`))
	})
	mk := func(body string) string {
		st, made := apiJSON(t, h, "POST", "/v1/webhooks", body)
		if st != http.StatusCreated {
			t.Fatalf("create: %d %v", st, made)
		}
		return made["id"].(string)
	}
	id := mk(fmt.Sprintf(`{"account":"acme","name":"CRM sync","url":%q,"events":["contact.*","email.clicked"],
		"auth":{"type":"token","token":"bearer-secret-0123456789"}}`, rc.URL+"/crm"))
	formID := mk(fmt.Sprintf(`{"account":"acme","name":"Legacy form","url":%q,"events":["contact.*"],"plugin":{"name":"form"}}`, rc.URL+"/form"))

	c.do("open the console", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), opToken))
	if st := c.navigate("sign in", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("sign-in answered %d", st)
	}
	if st := c.navigate("open the Test screen", chromedp.Click(chromedp.CSS(`tr[data-webhook="`+id+`"] a[href$="/test"]`))); st != 200 {
		t.Fatalf("the Test screen answered %d", st)
	}
	if got := c.text("h1"); got != "Test CRM sync" {
		t.Errorf("heading %q", got)
	}
	// Another type: its sample comes in.
	if st := c.navigate("choose email.clicked", chromedp.WaitVisible(chromedp.CSS("#event_type")),
		// One step: chromedp's SetValue may fire the change itself, whose
		// navigation would then race a second step.
		chromedp.Evaluate[chromedp.Void](`(function(s){ s.value = "email.clicked"; s.dispatchEvent(new Event("change")); })(document.querySelector("#event_type"))`)); st != 200 {
		t.Fatalf("choosing a type answered %d", st)
	}
	if got := c.eval("payload", `document.querySelector("#payload").value`); !strings.Contains(got, `"subject"`) {
		t.Errorf("email.clicked's sample is not in the payload: %q", got)
	}
	// Not JSON: refused beside the field, nothing sent.
	c.do("break the payload", chromedp.SetValue(chromedp.CSS("#payload"), `{"email": "ada@example.com",`))
	if st := c.navigate("send", chromedp.Click(chromedp.CSS("#send-test"))); st != 422 {
		t.Errorf("a payload that is not JSON answered %d, want 422", st)
	}
	if got := c.text("#payload-error"); !strings.Contains(got, "Not valid JSON") {
		t.Errorf("the error beside the payload: %q", got)
	}
	if got := c.eval("invalid", `document.querySelector("#payload").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("the payload is not marked invalid: %q", got)
	}
	c.checkPage("test with an error")
	c.shot("console-test-error")
	if n := rc.Count(); n != 0 {
		t.Fatalf("a payload that is not JSON sent %d requests", n)
	}
	// Edited and sent.
	c.do("edit the payload", chromedp.SetValue(chromedp.CSS("#payload"), `{"email":"grace@example.com","url":"https://example.com/offer","subject":"Edited in the browser","date":"2026-11-22T10:00:00Z"}`))
	if st := c.navigate("send", chromedp.Click(chromedp.CSS("#send-test"))); st != 200 {
		t.Fatalf("send answered %d: %s", st, c.text("main"))
	}
	got := rc.WaitFor(t, 1, 10*time.Second)[0]
	if !strings.Contains(string(got.Body), "Edited in the browser") || got.Header.Get("Hookhub-Test") != "true" {
		t.Errorf("the receiver got %s %v", got.Body, got.Header)
	}
	if got := c.text("#r-status"); got != "202" {
		t.Errorf("status shown %q, want 202", got)
	}
	if got := c.text("#resp-headers"); !strings.Contains(got, "X-Receiver-Trace") || !strings.Contains(got, "trace-1") {
		t.Errorf("the response headers shown: %q", got)
	}
	if ms, err := strconv.ParseFloat(strings.TrimSuffix(c.text("#r-latency"), " ms"), 64); err != nil || ms <= 0 || ms > 10000 {
		t.Errorf("the latency shown: %q", c.text("#r-latency"))
	}
	if got := c.text("#req-line"); got != "POST "+rc.URL+"/crm" {
		t.Errorf("the request line: %q", got)
	}
	if got := c.text("#req-headers"); !strings.Contains(got, "Bearer [redacted]") {
		t.Errorf("the request's Authorization is not masked: %q", got)
	}
	if html := c.eval("html", `document.documentElement.outerHTML`); strings.Contains(html, "bearer-secret-0123456789") {
		t.Error("the page holds the bearer token")
	}
	c.checkPage("test")
	c.shot("console-test")
	c.do("phone", chromedp.EmulateViewport(390, 844))
	c.checkPage("test at 390 px")
	c.shot("console-test-390")
	c.do("laptop", chromedp.EmulateViewport(1280, 900))

	// The form plugin's request for a delivered event.
	if st, m := apiJSON(t, h, "POST", "/v1/events", `{"id":"evt_browser_1","type":"contact.updated","source":"crm","account":"acme","data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}}`); st != http.StatusAccepted {
		t.Fatalf("publish: %d %v", st, m)
	}
	var delivered hubtest.Request
	hubtest.Eventually(t, 10*time.Second, "the form webhook's delivery", func() bool {
		for _, q := range rc.Requests() {
			if q.Path == "/form" {
				delivered = q
				return true
			}
		}
		return false
	})
	waitAttempts(t, h, formID, 1)
	c.navigate("detail", chromedp.Navigate(h.ConsoleURL()+"webhooks/"+formID))
	if st := c.navigate("open the preview", chromedp.Click(chromedp.CSS("#d-preview"))); st != 200 {
		t.Fatalf("the preview screen answered %d", st)
	}
	if got := c.eval("recent", `document.querySelector("#event_id").value`); got != "evt_browser_1" {
		t.Errorf("the recent event offered: %q", got)
	}
	if st := c.navigate("preview", chromedp.Click(chromedp.CSS("#preview"))); st != 200 {
		t.Fatalf("preview answered %d: %s", st, c.text("main"))
	}
	if got := c.text("#p-body"); got != string(delivered.Body) || !strings.Contains(got, "contact[email]=ada%40example.com") {
		t.Errorf("the previewed body %q, the delivery sent %q", got, delivered.Body)
	}
	if got := c.text("#p-headers"); !strings.Contains(got, "application/x-www-form-urlencoded") {
		t.Errorf("the previewed headers: %q", got)
	}
	c.checkPage("preview")
	c.shot("console-preview")
	c.do("phone", chromedp.EmulateViewport(390, 844))
	c.checkPage("preview at 390 px")
	c.shot("console-preview-390")
}
