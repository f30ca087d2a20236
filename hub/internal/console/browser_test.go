package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// The browser tests drive Debian's chromium (installed by .ci/run) against a
// real hub. They skip, saying so, when no Chromium is installed. Screenshots
// go to a temp dir, or to HOOKHUB_CONSOLE_SHOTS when set (the ones in docs/
// were taken so).

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium installed (apt-get install chromium; .ci/run does so as root): the console's browser tests skip")
	return ""
}

// cspRecorder collects, in every page, the Content-Security-Policy
// violations the page meets (added by the protocol, so the CSP does not
// apply to it).
const cspRecorder = `window.__csp = []; document.addEventListener("securitypolicyviolation", function (e) {
	window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber); });`

type chrome struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func startChrome(t *testing.T) *chrome {
	path := chromium(t)
	dir, err := os.MkdirTemp("", "hookhub-chromium")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's helpers may still write for a moment after it stops.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	shots := os.Getenv("HOOKHUB_CONSOLE_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	c := &chrome{t: t, ctx: ctx, shots: shots}
	// The first run starts the browser: no timeout on it (it would stop the browser).
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder})
		return err
	})); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return c
}

// do runs steps within 30 s.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// navigate runs steps that load a page (a click on a link or a submit) and
// returns the answer's status.
func (c *chrome) navigate(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

func run[T any](c *chrome, what string, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	return strings.TrimSpace(run(c, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func (c *chrome) eval(what, js string) string {
	c.t.Helper()
	return run(c, what, chromedp.Evaluate[string](js))
}

// shot saves a full-page screenshot.
func (c *chrome) shot(name string) {
	c.t.Helper()
	png := run(c, "screenshot "+name, chromedp.FullScreenshot(100))
	p := filepath.Join(c.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot %s", p)
}

// page checks what every screen must have: no CSP violation, every form
// field labelled, no horizontal scrolling.
func (c *chrome) checkPage(name string) {
	c.t.Helper()
	if v := c.eval(name+": CSP violations", `JSON.stringify(window.__csp || [])`); v != "[]" {
		c.t.Errorf("%s: Content-Security-Policy violations: %s", name, v)
	}
	unlabelled := c.eval(name+": labels", `JSON.stringify(Array.from(document.querySelectorAll("input,select,textarea"))
		.filter(e => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
		.map(e => e.name || e.id))`)
	if unlabelled != "[]" {
		c.t.Errorf("%s: form fields without a label: %s", name, unlabelled)
	}
	if w := c.eval(name+": width", `String(document.documentElement.scrollWidth) + " " + String(window.innerWidth)`); func() bool {
		var sw, iw int
		_, _ = fmt.Sscan(w, &sw, &iw)
		return sw > iw
	}() {
		c.t.Errorf("%s: the page scrolls sideways (scroll width, window width: %s)", name, w)
	}
}

// TestBrowserWebhookLifecycle signs in, creates a webhook through the form
// (events by category and one by one, initiators, a list, basic auth, a
// header), sees it listed with the usage count, sends a test and sees the
// receiver's status, rotates the secret, is refused a form without its CSRF
// token, deactivates it, and deletes it through the confirmation.
func TestBrowserWebhookLifecycle(t *testing.T) {
	c := startChrome(t)
	h := startHub(t)
	rc := hubtest.NewReceiver(t)

	// Sign in by keyboard: the token field has the focus, Enter submits.
	c.do("open the console", chromedp.Navigate(h.ConsoleURL()), chromedp.WaitVisible(chromedp.CSS("#token")))
	c.checkPage("sign-in")
	c.shot("console-signin")
	c.do("type the token", chromedp.SendKeys(chromedp.CSS("#token"), opToken))
	if st := c.navigate("sign in", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("sign-in answered %d: %s", st, c.eval("body", `document.body.innerText`))
	}
	if got := c.text("h1"); got != "Webhooks" {
		t.Fatalf("after sign-in the page is %q, want Webhooks", got)
	}
	if got := c.text("#usage-acme"); got != "0 of 3 webhooks" {
		t.Errorf("acme's usage: %q, want 0 of 3 webhooks", got)
	}
	// Keyboard: the first Tab reaches the skip link.
	c.do("tab", chromedp.KeyEvent(kb.Tab))
	if got := c.eval("focus", `document.activeElement.className`); got != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}

	// Create.
	c.navigate("add", chromedp.Click(chromedp.CSS(`a[href="/console/webhooks/new?account=acme"]`)))
	c.do("fill the form",
		chromedp.SendKeys(chromedp.CSS("#name"), "CRM sync"),
		chromedp.SendKeys(chromedp.CSS("#url"), "ftp://127.0.0.1/hook"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Contacts and SMS to the CRM"),
		chromedp.Click(chromedp.CSS(`input[name=auth_type][value=basic]`)),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "hookuser"),
		chromedp.SendKeys(chromedp.CSS("#password"), "hook-pass-9"),
		chromedp.SendKeys(chromedp.CSS("#header-name-0"), "X-Tenant"),
		chromedp.SendKeys(chromedp.CSS("#header-value-0"), "tenant-7"),
		chromedp.Click(chromedp.CSS(`input[name=category][value="sms.*"]`)),
	)
	if got := c.eval("sms boxes", `String(Array.from(document.querySelectorAll('input[name=events][value^="sms."]')).every(b => b.checked))`); got != "true" {
		t.Errorf("checking the SMS category left some of its events unchecked")
	}
	c.do("search", chromedp.SendKeys(chromedp.CSS("#event-search"), "bounce"))
	shown := c.eval("search result", `JSON.stringify(Array.from(document.querySelectorAll("li[data-event]")).filter(li => !li.hidden).map(li => li.dataset.event.split(" ")[0]))`)
	if !strings.Contains(shown, "email.hard_bounced") || strings.Contains(shown, "contact.created") {
		t.Errorf("searching bounce shows %s", shown)
	}
	c.shot("console-form-search")
	c.eval("clear the search", `(() => { const s = document.querySelector("#event-search"); s.value = ""; s.dispatchEvent(new Event("input")); return "" })()`)
	c.do("pick",
		chromedp.Click(chromedp.CSS(`input[name=events][value="contact.created"]`)),
		chromedp.Click(chromedp.CSS(`input[name=initiators][value=api]`)),
		chromedp.Click(chromedp.CSS(`input[name=initiators][value=user]`)),
		chromedp.SendKeys(chromedp.CSS("#lists"), "12, 15"),
	)
	c.checkPage("form")
	c.shot("console-form")
	// The API refuses the URL: its error shows beside the field, the rest stays.
	if st := c.navigate("save", chromedp.Click(chromedp.CSS("#save"))); st != 422 {
		t.Fatalf("saving an ftp URL answered %d, want 422", st)
	}
	if got := c.text("#url-error"); !strings.Contains(got, "http") {
		t.Errorf("the error beside the URL: %q", got)
	}
	if got := c.eval("kept", `String(document.querySelector('input[name=category][value="sms.*"]').checked && document.querySelector('input[name=events][value="contact.created"]').checked && document.querySelector("#username").value === "hookuser")`); got != "true" {
		t.Error("the refused form lost the events or the user name")
	}
	c.checkPage("form with an error")
	c.shot("console-form-error")
	// Secrets are not sent back into the page: type them again.
	c.do("fix",
		chromedp.SetValue(chromedp.CSS("#url"), rc.URL+"/hook"),
		chromedp.SendKeys(chromedp.CSS("#password"), "hook-pass-9"),
		chromedp.SendKeys(chromedp.CSS("#header-value-0"), "tenant-7"),
	)
	if st := c.navigate("save", chromedp.Click(chromedp.CSS("#save"))); st != 201 {
		t.Fatalf("saving answered %d: %s", st, c.text("main"))
	}
	hooks := h.Snapshot().Account("acme")
	if len(hooks) != 1 {
		t.Fatalf("acme has %d webhooks after the form, want 1", len(hooks))
	}
	wh := hooks[0]
	id := wh.ID
	if !slices.Equal(wh.Events, []string{"sms.*", "contact.created"}) || !slices.Equal(wh.Initiators, []string{"user", "api"}) ||
		!slices.Equal(wh.Lists, []string{"12", "15"}) || wh.Name != "CRM sync" || wh.URL != rc.URL+"/hook" {
		t.Errorf("stored: events %v, initiators %v, lists %v, name %q, url %q", wh.Events, wh.Initiators, wh.Lists, wh.Name, wh.URL)
	}
	if wh.Auth == nil || wh.Auth.Type != "basic" || wh.Auth.Username != "hookuser" || wh.Auth.Password.Reveal() != "hook-pass-9" || wh.Headers["X-Tenant"] != "tenant-7" {
		t.Errorf("stored auth %+v, headers %v", wh.Auth, wh.Headers)
	}
	secret := run(c, "secret", chromedp.Value(chromedp.CSS("#secret")))
	if secret != wh.Secret.Reveal() {
		t.Errorf("the page shows secret %q, the hub holds another", secret)
	}
	c.checkPage("created")
	c.shot("console-created")

	// Listed, with the usage count.
	c.navigate("back", chromedp.Click(chromedp.CSS("a.button.primary")))
	row := fmt.Sprintf(`tr[data-webhook=%q]`, id)
	if got := c.text("#usage-acme"); got != "1 of 3 webhooks" {
		t.Errorf("acme's usage: %q, want 1 of 3 webhooks", got)
	}
	if got := c.text(row + " .name"); got != "CRM sync" {
		t.Errorf("listed name %q", got)
	}
	if got := c.text(row + " .status-text"); got != "Active" {
		t.Errorf("listed status %q, want Active", got)
	}
	if strings.Contains(c.eval("html", `document.documentElement.outerHTML`), secret) {
		t.Error("the list's HTML holds the signing secret")
	}

	// Send a test; htmx puts the result in the row.
	c.do("send a test",
		chromedp.SetValue(chromedp.CSS("#type-"+id), "contact.created"),
		chromedp.Click(chromedp.CSS(row+" form.test button")),
		chromedp.WaitVisible(chromedp.CSS("#test-"+id+" .status")),
	)
	if got := c.text("#test-" + id + " .status"); got != "200" {
		t.Errorf("the test result shows status %q, want 200", got)
	}
	reqs := rc.WaitFor(t, 1, 10*time.Second)
	if reqs[0].Header.Get("Hookhub-Test") != "true" || !strings.Contains(string(reqs[0].Body), `"contact.created"`) {
		t.Errorf("the receiver got %v %s", reqs[0].Header, reqs[0].Body)
	}
	if u, p, ok := basicAuth(reqs[0].Header.Get("Authorization")); !ok || u != "hookuser" || p != "hook-pass-9" {
		t.Errorf("the test request's basic auth: %q %q %v", u, p, ok)
	}
	c.checkPage("list")
	c.shot("console-webhooks")

	// Rotate: the new secret, shown once.
	c.navigate("rotate", chromedp.Click(chromedp.CSS(row+` form[action$="/rotate"] button`)))
	rotated := run(c, "rotated secret", chromedp.Value(chromedp.CSS("#secret")))
	if rotated == secret || rotated != h.Snapshot().Get(id).Secret.Reveal() {
		t.Errorf("after rotation the page shows %q: not the hub's new secret", rotated)
	}
	c.navigate("back", chromedp.Click(chromedp.CSS("a.button.primary")))

	// A form whose CSRF token is gone is refused.
	c.eval("drop the token", `(() => { document.querySelector('`+row+` form[action$="/deactivate"] input[name=csrf]').remove(); return "" })()`)
	if st := c.navigate("deactivate without token", chromedp.Click(chromedp.CSS(row+` form[action$="/deactivate"] button`))); st != 403 {
		t.Errorf("a form without its CSRF token answered %d, want 403", st)
	}
	if got := c.text("h1"); got != "Refused" {
		t.Errorf("page %q, want Refused", got)
	}
	if !h.Snapshot().Get(id).IsActive() {
		t.Fatal("a form without its CSRF token deactivated the webhook")
	}

	// Deactivate.
	c.navigate("list", chromedp.Navigate(h.ConsoleURL()+"webhooks"))
	c.navigate("deactivate", chromedp.Click(chromedp.CSS(row+` form[action$="/deactivate"] button`)))
	if got := c.text(row + " .status-text"); got != "Inactive" {
		t.Errorf("after deactivation the status is %q", got)
	}
	if h.Snapshot().Get(id).IsActive() {
		t.Error("the webhook is still active")
	}
	if got := c.text(".flash"); !strings.Contains(got, "deactivated") {
		t.Errorf("flash %q", got)
	}

	// On a phone.
	c.do("phone", chromedp.EmulateViewport(390, 844))
	c.navigate("list", chromedp.Navigate(h.ConsoleURL()+"webhooks"))
	c.checkPage("list at 390 px")
	c.shot("console-webhooks-390")
	c.navigate("edit", chromedp.Navigate(h.ConsoleURL()+"webhooks/"+id+"/edit"))
	c.checkPage("form at 390 px")
	c.shot("console-form-390")
	c.do("laptop", chromedp.EmulateViewport(1280, 900))

	// Delete through the confirmation.
	c.navigate("list", chromedp.Navigate(h.ConsoleURL()+"webhooks"))
	c.navigate("delete", chromedp.Click(chromedp.CSS(row+" a.danger")))
	c.checkPage("delete")
	c.shot("console-delete")
	if h.Snapshot().Get(id) == nil {
		t.Fatal("the webhook was deleted before the confirmation")
	}
	c.navigate("confirm", chromedp.Click(chromedp.CSS("#confirm-delete")))
	if h.Snapshot().Get(id) != nil {
		t.Error("the webhook is still there after the confirmation")
	}
	if got := c.text("#usage-acme"); got != "0 of 3 webhooks" {
		t.Errorf("acme's usage after the delete: %q", got)
	}

	// Sign out.
	c.navigate("sign out", chromedp.Click(chromedp.CSS(".who button")))
	if got := c.text("h1"); got != "Sign in" {
		t.Errorf("after sign-out the page is %q", got)
	}
}

func basicAuth(header string) (user, password string, ok bool) {
	r := &http.Request{Header: http.Header{"Authorization": {header}}}
	return r.BasicAuth()
}
