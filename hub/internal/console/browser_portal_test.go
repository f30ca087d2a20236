package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestBrowserPortalInAFrame: a platform's page (another origin, listed in
// console.frame_ancestors) frames a portal link of acme; the frame shows
// acme's webhooks and not globex's, and so does the link opened on its own,
// at 1280 and 390 px.
func TestBrowserPortalInAFrame(t *testing.T) {
	c := startChrome(t)
	var link atomic.Value
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Platform</title><h1>Your integrations</h1>
<iframe src="%s" title="Webhooks" width="1200" height="640"></iframe>`, html.EscapeString(link.Load().(string)))
	}))
	t.Cleanup(platform.Close)
	h := hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,"accounts":[{"id":"acme","api_token":%q},{"id":"globex"}],
		"console":{"frame_ancestors":[%q]}}`, opToken, acmeToken, platform.URL), nil)
	id := makeHook(t, h, "acme", "acme-crm")
	makeHook(t, h, "globex", "globex-billing")

	_, m := portalLink(t, h, acmeToken, "acme", "")
	link.Store(m["url"].(string))
	c.do("the platform's page", chromedp.Navigate(platform.URL), chromedp.WaitVisible(chromedp.CSS("iframe")))
	// The frame first shows the link's page, whose button console.js
	// presses at once; the portal's list replaces it. Each look takes the
	// iframe afresh, since its document changes under it.
	var inFrame string
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(inFrame, "acme-crm") && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		if frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("iframe"))); err == nil && len(frames) > 0 {
			if txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#main"), chromedp.FromNode(frames[0]))); err == nil {
				inFrame = txt
			}
		}
		cancel()
		if !strings.Contains(inFrame, "acme-crm") {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !strings.Contains(inFrame, "acme-crm") || strings.Contains(inFrame, "globex-billing") {
		t.Fatalf("the framed portal of acme shows:\n%s", inFrame)
	}
	c.shot("portal-framed")

	_, m = portalLink(t, h, opToken, "acme", `{"read_only":true}`)
	// At the top level the link's page waits for its button (a link
	// previewer's GET spends nothing); inside the frame above, console.js
	// pressed it at once.
	if st := c.navigate("open a link", chromedp.Navigate(m["url"].(string))); st != 200 || !strings.Contains(c.text("#main"), "account acme") {
		t.Fatalf("the link opened on its own: %d %q", st, c.text("#main"))
	}
	c.checkPage("portal link page")
	c.shot("portal-enter")
	if st := c.navigate("press Open", chromedp.Click(chromedp.CSS("#enter"))); st != 200 {
		t.Fatalf("pressing Open: %d", st)
	}
	if got := c.text("#main"); !strings.Contains(got, "acme-crm") || strings.Contains(got, "globex") {
		t.Fatalf("the portal of acme shows:\n%s", got)
	}
	c.checkPage("portal list")
	c.shot("portal-webhooks")
	c.navigate("edit", chromedp.Navigate(h.APIURL()+"/portal/webhooks/"+id+"/edit"))
	c.checkPage("portal form")
	c.do("phone", chromedp.EmulateViewport(390, 844))
	c.navigate("list", chromedp.Navigate(h.APIURL()+"/portal/webhooks"))
	c.checkPage("portal list at 390 px")
	c.shot("portal-webhooks-390")
	c.do("laptop", chromedp.EmulateViewport(1280, 900))
	// Reused: the same link again is refused with a page that says so.
	if st := c.navigate("reuse", chromedp.Navigate(m["url"].(string))); st != http.StatusGone || !strings.Contains(c.text("#main"), "used already") {
		t.Fatalf("a reused link: %d %q", st, c.text("#main"))
	}
	c.shot("portal-link-used")
}
