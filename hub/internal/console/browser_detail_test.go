package console_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/signature"
)

// TestBrowserWebhookDetail opens the detail from the webhook's name in the
// list and checks it at 1280 and 390 px (no CSP violation, labelled fields,
// no sideways scrolling), with the IP ranges and the snippets in view.
func TestBrowserWebhookDetail(t *testing.T) {
	c := startChrome(t)
	key, err := signature.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	h := hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"delivery":{"egress_ranges":["203.0.113.0/24","2001:db8:5::/48"],"signing_keys":[%q]},
		"accounts":[{"id":"acme","webhook_limit":3}]}`, opToken, key.Reveal()), nil)
	rc := hubtest.NewReceiver(t)
	st, made := apiJSON(t, h, "POST", "/v1/webhooks", fmt.Sprintf(`{"account":"acme","name":"CRM sync","url":%q,
		"events":["contact.created","email.*"],"initiators":["api","user"],"lists":["newsletter"],"signatures":["v1","v1a"]}`, rc.URL))
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, made)
	}
	id := made["id"].(string)

	c.do("open the console", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), opToken))
	if st := c.navigate("sign in", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("sign-in answered %d", st)
	}
	if st := c.navigate("open the detail", chromedp.Click(chromedp.CSS(`a[href="/console/webhooks/`+id+`"]`))); st != 200 {
		t.Fatalf("the detail answered %d", st)
	}
	if got := c.text("h1"); got != "CRM sync" {
		t.Errorf("the detail's heading: %q", got)
	}
	if got := c.text("#d-ranges"); got != "203.0.113.0/24\n2001:db8:5::/48" {
		t.Errorf("the IP ranges: %q", got)
	}
	if got := c.eval("secret", `document.querySelector("#d-secret").value`); got == "" || got == h.Snapshot().Get(id).Secret.Reveal() {
		t.Errorf("the secret field holds %q, want the masked secret", got)
	}
	c.checkPage("detail")
	c.shot("console-detail")
	c.do("phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1")))
	c.checkPage("detail at 390 px")
	c.shot("console-detail-390")
}
