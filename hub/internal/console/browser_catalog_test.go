package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserCatalog: from the webhooks list, the Catalog link opens the
// catalog; typing "link clicked" in its search box and pressing Enter
// narrows it to email.clicked and its kin; the sample opens from the
// keyboard; at 1280 and 390 px, within the CSP, every field labelled.
func TestBrowserCatalog(t *testing.T) {
	c := startChrome(t)
	h := startTypedHub(t)
	c.navigate("sign-in page", chromedp.Navigate(h.APIURL()+"/console/signin"))
	c.navigate("sign in", chromedp.SendKeys(chromedp.CSS("#token"), acmeToken), chromedp.Submit(chromedp.CSS("#token")))
	c.navigate("the Catalog link", chromedp.Click(chromedp.CSS(`nav a[href="/console/event-types"]`)))
	if got := c.text("#main h1"); got != "Event catalog" {
		t.Fatalf("the Catalog link opens %q", got)
	}
	if got := c.text("#type-invoice\\.paid"); !strings.Contains(got, "declared for acme") {
		t.Errorf("acme's invoice.paid: %q", got)
	}
	c.checkPage("catalog")
	c.navigate("search", chromedp.SendKeys(chromedp.CSS("#c-q"), "link clicked"+kb.Enter))
	if got := c.eval("types shown", `Array.from(document.querySelectorAll("article.etype")).map(a => a.dataset.type).join(" ")`); !strings.Contains(got, "email.clicked") || strings.Contains(got, "contact.created") {
		t.Fatalf("searching link clicked shows %q", got)
	}
	c.do("open the sample from the keyboard", chromedp.Focus(chromedp.CSS("#type-email\\.clicked summary")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#type-email\\.clicked pre")))
	if got := c.text("#type-email\\.clicked pre"); !strings.Contains(got, `"email":`) {
		t.Errorf("the sample: %q", got)
	}
	c.checkPage("catalog searched")
	c.shot("console-catalog")
	c.do("phone", chromedp.EmulateViewport(390, 844))
	c.navigate("catalog at 390", chromedp.Navigate(h.APIURL()+"/console/event-types?q=link+clicked"))
	c.do("open the sample", chromedp.Click(chromedp.CSS("#type-email\\.clicked summary")))
	c.checkPage("catalog at 390 px")
	c.shot("console-catalog-390")
}
