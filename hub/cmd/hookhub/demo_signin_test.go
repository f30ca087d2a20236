package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoPrintsASignInLink: the demo, run with an API token, prints the
// console's address and a link that signs a browser straight in: a client
// with a cookie jar opens it, presses its button (what console.js does) and
// gets the webhooks page as the operator; the link works once, and the
// token is never printed.
func TestDemoPrintsASignInLink(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookhub and runs the demo")
	}
	bin, err := buildHookhub()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	const token = "demo-operator-token-0123456789"
	out := startDemo(t, bin, root, "50ms", token, "HOOKHUB_API_TOKEN="+token)
	console := out.waitFor(t, regexp.MustCompile(`web console: (http://127\.0\.0\.1:\d+/console/)\n`))
	link := out.waitFor(t, regexp.MustCompile(`\n  sign in: (http://127\.0\.0\.1:\d+/console/enter\?t=[A-Za-z0-9_-]{40,})\n`))
	if !strings.HasPrefix(link, console) {
		t.Fatalf("the sign-in link %s is not on the console's address %s", link, console)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The link's page: a button that POSTs it (console.js presses it).
	code, page := get(link)
	m := regexp.MustCompile(`<form method="post" action="(/console/enter)" data-enter="always">\s*<input type="hidden" name="t" value="([^"]+)">`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET the link: %d, want 200 and its sign-in button\n%s", code, page)
	}
	resp, err := browser.PostForm(console+"enter", url.Values{"t": {m[2]}}) // follows the 303
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/webhooks" || !strings.Contains(string(body), "Signed in as operator") {
		t.Fatalf("pressing the button: %d at %s, want the webhooks page signed in\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if code, page := get(console + "webhooks"); code != http.StatusOK || !strings.Contains(page, "acme") {
		t.Fatalf("the webhooks page afterwards: %d\n%s", code, page)
	}

	// Once only: another browser is refused the same link.
	other := &http.Client{Timeout: 20 * time.Second}
	resp, err = other.PostForm(console+"enter", url.Values{"t": {m[2]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(body), "used already") {
		t.Fatalf("the link used again: %d, want 410 used already\n%s", resp.StatusCode, body)
	}
}
