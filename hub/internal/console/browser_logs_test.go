package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestBrowserLogs opens a webhook's logs from its row, reads the figures,
// filters by outcome with the form (keyboard), follows "Older" to the
// oldest attempt, opens a failure's details, and checks the screens at 1280
// and 390 px (no CSP violation, labelled fields, no sideways scrolling).
func TestBrowserLogs(t *testing.T) {
	c := startChrome(t)
	rc, _ := failingReceiver(t, "e2", "e5")
	h := logHub(t, rc, [2]string{"wh_logs", "acme"})
	for i := 1; i <= 7; i++ {
		typ := "contact.created"
		if i%3 == 0 {
			typ = "deal.created"
		}
		publishLogged(t, h, "acme", fmt.Sprintf("e%d", i), typ, "wh_logs", i)
	}
	waitDead(t, h, "wh_logs", 2)

	c.do("open the console", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), acmeToken))
	if st := c.navigate("sign in", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("sign-in answered %d", st)
	}
	if st := c.navigate("logs", chromedp.Click(chromedp.CSS(`a[href="/console/webhooks/wh_logs/logs"]`))); st != 200 {
		t.Fatalf("the Logs link answered %d", st)
	}
	if got := c.text("h1"); got != "Logs of Log wh_logs" {
		t.Errorf("the logs page is %q", got)
	}
	if got := c.text("#stats-hour"); !strings.HasPrefix(got, "Last hour\t5\t2\t2") {
		t.Errorf("the last hour's figures: %q, want 5 delivered, 2 failed, 2 dead-lettered", got)
	}
	events := func() string {
		return c.eval("rows", `Array.from(document.querySelectorAll("tr.attempt")).map(r => r.dataset.event).join(" ")`)
	}
	if got := events(); got != "e7 e6 e5 e4 e3 e2 e1" {
		t.Errorf("the attempts: %q, want e7 to e1, newest first", got)
	}
	c.checkPage("logs")
	c.shot("console-logs")

	// Filter by outcome by keyboard: the select, then Enter on the button.
	c.do("choose dead", chromedp.SetValue(chromedp.CSS("#f-outcome"), "dead"), chromedp.Focus(chromedp.CSS(`form.filters button[type=submit]`)))
	if st := c.navigate("filter", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("the filter answered %d", st)
	}
	if got := events(); got != "e5 e2" {
		t.Errorf("outcome dead: %q, want e5 e2", got)
	}
	if got := c.eval("url", `location.search`); !strings.Contains(got, "outcome=dead") {
		t.Errorf("the filter is not in the address (%q): it cannot be shared or reloaded", got)
	}
	c.do("open the details", chromedp.Click(chromedp.CSS(`tr[data-event="e5"] summary`)))
	if got := c.text(`tr[data-event="e5"] details`); !strings.Contains(got, "receiver down for e5") || !strings.Contains(got, "Webhook-Signature") {
		t.Errorf("the details of e5: %q, want the response excerpt and the request headers", got)
	}
	c.checkPage("logs filtered")
	c.shot("console-logs-dead")

	// Pages of three, delivered only, followed by Older to the end.
	c.do("page of 3", chromedp.Navigate(h.ConsoleURL()+"webhooks/wh_logs/logs?outcome=delivered&limit=3"), chromedp.WaitVisible(chromedp.CSS("h1")))
	var seen []string
	for i := 0; ; i++ {
		seen = append(seen, events())
		if c.eval("older?", `String(!!document.querySelector('a[rel=next]'))`) != "true" {
			break
		}
		if i > 4 {
			t.Fatal("Older never ends")
		}
		if st := c.navigate("older", chromedp.Click(chromedp.CSS(`a[rel=next]`))); st != 200 {
			t.Fatalf("Older answered %d", st)
		}
	}
	if got := strings.Join(seen, " | "); got != "e7 e6 e4 | e3 e1" {
		t.Errorf("delivered by pages of 3: %q, want e7 e6 e4 | e3 e1", got)
	}
	c.do("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(h.ConsoleURL()+"webhooks/wh_logs/logs"), chromedp.WaitVisible(chromedp.CSS("h1")))
	c.checkPage("logs at 390 px")
	c.shot("console-logs-390")
	c.do("dead letters", chromedp.Navigate(h.ConsoleURL()+"webhooks/wh_logs/dead-letters"), chromedp.WaitVisible(chromedp.CSS("h1")))
	c.checkPage("dead letters at 390 px")
	c.shot("console-dead-letters-390")
	c.do("laptop", chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1")))
	c.checkPage("dead letters")
	c.shot("console-dead-letters")
	c.do("event", chromedp.Navigate(h.ConsoleURL()+"events/e5?account=acme"), chromedp.WaitVisible(chromedp.CSS("h1")))
	c.checkPage("event")
	c.shot("console-event")
}

// TestBrowserLogsDisabledBanner: the logs of a webhook the hub disabled
// (410 Gone) show the banner; "Enable and recover" by keyboard enables it
// and redelivers what failed meanwhile.
func TestBrowserLogsDisabledBanner(t *testing.T) {
	c := startChrome(t)
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
	publishLogged(t, h, "acme", "g2", "contact.created", "wh_gone", 2)
	waitDead(t, h, "wh_gone", 2)
	gone.Store(false)

	c.do("sign in", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), opToken), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".hooks")))
	c.do("logs", chromedp.Navigate(h.ConsoleURL()+"webhooks/wh_gone/logs"), chromedp.WaitVisible(chromedp.CSS(".banner")))
	if got := c.text(".banner"); !strings.Contains(got, "410") || !strings.Contains(got, "Enable and recover the 2 dead letters since it failed") {
		t.Errorf("the banner: %q", got)
	}
	c.checkPage("disabled banner")
	c.shot("console-logs-disabled")
	c.do("focus recover", chromedp.Focus(chromedp.CSS(`.banner button.primary`)))
	if st := c.navigate("enable and recover", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("enable and recover answered %d", st)
	}
	if got := c.text(".flash"); !strings.Contains(got, "2 dead letters redriven") {
		t.Errorf("the flash after the recovery: %q", got)
	}
	rc.WaitFor(t, 3, 20*time.Second) // g1 refused, then g1 and g2 (sent nowhere while disabled)
}
