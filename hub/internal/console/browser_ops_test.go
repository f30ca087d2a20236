package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserOperatorScreens: real deliveries (wh_bad's first two to a
// receiver answering 500) on top of an hour of history; the operator signs
// in by keyboard, follows the navigation to Rates and sees the worst
// webhook first with its chart (bars of both kinds, a text alternative,
// the buckets as a table opened from the keyboard); to Rejected, sees the
// refused event with its reason and filters by account; to Accounts, sees
// acme's "2 of 3" and its last hour; to Egress, copies the ranges. Every
// screen at 1280 and 390 px, within the CSP, every field labelled, no
// sideways scrolling.
func TestBrowserOperatorScreens(t *testing.T) {
	c := startChrome(t)
	h := opsHub(t, true)
	c.do("open the console", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), opToken))
	if st := c.navigate("sign in", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("sign-in answered %d", st)
	}

	// Rates.
	if st := c.navigate("Rates", chromedp.Click(chromedp.CSS(`nav a[href="/console/rates"]`))); st != 200 {
		t.Fatalf("the Rates link answered %d", st)
	}
	order := c.eval("rows", `Array.from(document.querySelectorAll("#rates > tbody > tr")).map(r => r.dataset.webhook).join(" ")`)
	if order != "wh_bad wh_good wh_globex" {
		t.Errorf("the rates' order: %q, want the worst (wh_bad) first", order)
	}
	good, badOK, badFailed := 3, 1, 2 // the real deliveries
	for i := range 11 {
		good, badOK, badFailed = good+history.good[i], badOK+history.badOK[i], badFailed+history.badFailed[i]
	}
	rate := fmt.Sprintf("%.1f%%", 100*float64(badFailed)/float64(badOK+badFailed))
	if got := c.text(`#rate-wh_bad td[data-label="Failure rate"]`); got != rate {
		t.Errorf("wh_bad's failure rate: %q, want %q", got, rate)
	}
	if got := c.text(`#rate-wh_good td[data-label="Delivered"]`); got != fmt.Sprint(good) {
		t.Errorf("wh_good delivered %q, want %d", got, good)
	}
	bars := c.eval("bars", `[document.querySelectorAll('#rate-wh_bad svg rect[fill="#b42318"]').length, document.querySelectorAll('#rate-wh_bad svg rect[fill="#1a7f37"]').length].join(" ")`)
	if bars != "7 10" { // failures in 6 buckets of history and the current one; deliveries in 9 and the current one
		t.Errorf("wh_bad's chart: %s bars failed and delivered, want 7 10", bars)
	}
	if got := c.eval("chart's name", `document.querySelector("#rate-wh_bad svg").getAttribute("role") + ": " + document.querySelector("#rate-wh_bad svg title").textContent`); !strings.HasPrefix(got, fmt.Sprintf("img: Last hour in 12 five-minute buckets: %d delivered, %d failed; most failures (5)", badOK, badFailed)) {
		t.Errorf("the chart's text alternative: %q", got)
	}
	c.checkPage("rates")
	c.shot("console-rates")
	c.do("open the table by keyboard", chromedp.Focus(chromedp.CSS("#rate-wh_bad details summary")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#rate-wh_bad details table")))
	if got := c.eval("bucket rows", `String(document.querySelectorAll("#rate-wh_bad details tbody tr").length)`); got != "12" {
		t.Errorf("the table of buckets has %s rows, want 12", got)
	}
	c.checkPage("rates with a table open")
	c.shot("console-rates-table")

	// Rejected, then filtered to acme by the form.
	if st := c.navigate("Rejected", chromedp.Click(chromedp.CSS(`nav a[href="/console/rejected"]`))); st != 200 {
		t.Fatalf("the Rejected link answered %d", st)
	}
	if got := c.text("#rejected tbody tr"); !strings.Contains(got, "evt_refused") || !strings.Contains(got, "globex") || !strings.Contains(got, "email") {
		t.Errorf("the refused event's row: %q, want its id, account and reason", got)
	}
	c.do("open the event", chromedp.Click(chromedp.CSS("#rejected summary")))
	c.checkPage("rejected")
	c.shot("console-rejected")
	c.do("choose acme", chromedp.SetValue(chromedp.CSS("#r-account"), "acme"), chromedp.Focus(chromedp.CSS(`form.filters button[type=submit]`)))
	if st := c.navigate("filter", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("the filter answered %d", st)
	}
	if got := c.text(".empty"); !strings.Contains(got, "No rejected event matches") {
		t.Errorf("acme's rejected events: %q", got)
	}

	// Accounts.
	if st := c.navigate("Accounts", chromedp.Click(chromedp.CSS(`nav a[href="/console/accounts"]`))); st != 200 {
		t.Fatalf("the Accounts link answered %d", st)
	}
	if got := c.text("#account-acme"); !strings.Contains(got, "2 of 3") || !strings.Contains(got, fmt.Sprintf("%d delivered, %d failed", good+badOK, badFailed)) {
		t.Errorf("acme's usage: %q", got)
	}
	c.checkPage("accounts")
	c.shot("console-accounts")
	if st := c.navigate("acme's rates", chromedp.Click(chromedp.CSS(`#account-acme a[href="/console/rates?account=acme"]`))); st != 200 {
		t.Fatalf("acme's rates answered %d", st)
	}
	if got := c.eval("rows", `Array.from(document.querySelectorAll("#rates > tbody > tr")).map(r => r.dataset.webhook).join(" ")`); got != "wh_bad wh_good" {
		t.Errorf("acme's rates: %q", got)
	}

	// Egress: the Copy button answers (copied, or selected for Ctrl+C where the clipboard is refused).
	if st := c.navigate("Egress", chromedp.Click(chromedp.CSS(`nav a[href="/console/egress"]`))); st != 200 {
		t.Fatalf("the Egress link answered %d", st)
	}
	c.do("copy", chromedp.Focus(chromedp.CSS("button[data-copy]")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("[data-copy-status]")))
	c.do("wait for the status", chromedp.Poll[chromedp.Void](`document.querySelector("[data-copy-status]").textContent !== ""`))
	if got := c.eval("selection", `String(document.activeElement.id) + " " + document.activeElement.value.split("\n").length`); got != "e-ranges 2" {
		t.Errorf("after Copy the focus and selection is on %q, want the 2 ranges", got)
	}
	c.checkPage("egress")
	c.shot("console-egress")

	c.do("phone", chromedp.EmulateViewport(390, 844))
	for _, p := range []string{"rates", "accounts", "rejected", "egress"} {
		c.navigate(p+" at 390", chromedp.Navigate(h.ConsoleURL()+p))
		c.checkPage(p + " at 390 px")
		c.shot("console-" + p + "-390")
	}
}
