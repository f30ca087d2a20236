package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserPickerFollowsTheAccount: on a new webhook's form, changing the
// account brings that account's declared types into the picker (and takes
// the previous account's away), keeping what was checked.
func TestBrowserPickerFollowsTheAccount(t *testing.T) {
	c := startChrome(t)
	h := startTypedHub(t)
	c.do("open the console", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), opToken))
	if st := c.navigate("sign in", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("sign-in answered %d", st)
	}
	c.navigate("new form", chromedp.Navigate(h.ConsoleURL()+"webhooks/new"))
	has := func(typ string) string {
		return c.eval("has "+typ, `String(!!document.querySelector('input[name=events][value="`+typ+`"]'))`)
	}
	if has("invoice.paid") != "false" || has("billing.reminder") != "true" {
		t.Fatalf("with no account: invoice.paid %s (want false), billing.reminder %s (want true)", has("invoice.paid"), has("billing.reminder"))
	}
	change := func(acct string) {
		c.eval("account "+acct, `(() => { const a = document.querySelector("#account"); a.value = "`+acct+`"; a.dispatchEvent(new Event("change")); return "" })()`)
	}
	c.do("check contact.created", chromedp.Click(chromedp.CSS(`input[name=events][value="contact.created"]`)))
	change("acme")
	c.do("acme's types", chromedp.WaitVisible(chromedp.CSS(`input[name=events][value="invoice.paid"]`)))
	if got := c.text("[data-types-of]"); got != "The events below are account acme's." {
		t.Errorf("the form says %q", got)
	}
	if c.eval("kept", `String(document.querySelector('input[name=events][value="contact.created"]').checked)`) != "true" {
		t.Error("contact.created was unchecked by the change of account")
	}
	c.do("check invoice.paid", chromedp.Click(chromedp.CSS(`input[name=events][value="invoice.paid"]`)))
	change("globex")
	c.do("globex's types", chromedp.WaitNotPresent(chromedp.CSS(`input[name=events][value="invoice.paid"]`)))
	if has("billing.reminder") != "true" {
		t.Error("globex's form lost the hub-wide billing.reminder")
	}
	// The category box still checks all of its events after the swap.
	c.do("all of Billing", chromedp.Click(chromedp.CSS(`fieldset[data-category]:has(input[value="billing.reminder"]) [data-category-all]`)))
	if c.eval("billing checked", `String(document.querySelector('input[name=events][value="billing.reminder"]').checked)`) != "true" {
		t.Error("the swapped category's box does not check its events")
	}
	c.checkPage("form after a change of account")
}
