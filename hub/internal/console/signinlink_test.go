package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsoleSignInLink: a console sign-in link (what the demo prints)
// opens an operator session once, through its button's POST; its GET
// spends nothing; it opens no account portal, and a portal link opens no
// console.
func TestConsoleSignInLink(t *testing.T) {
	h := startHub(t)
	link, err := h.ConsoleSignInLink(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(link, h.APIURL())
	if !strings.HasPrefix(path, "/console/enter?t=") {
		t.Fatalf("the link %s: want %s/console/enter?t=...", link, h.APIURL())
	}
	// Not a portal link.
	portalPath := strings.Replace(path, "/console/", "/portal/", 1)
	if resp, body := newBrowser(t, h.APIURL()).open(portalPath); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Fatalf("the console link at the portal: %d, want 404 not valid\n%s", resp.StatusCode, body)
	}
	// GETs spend nothing.
	bot := newBrowser(t, h.APIURL())
	for range 2 {
		if resp, page := bot.do("GET", path, nil); resp.StatusCode != http.StatusOK || !enterRe.MatchString(page) || len(resp.Cookies()) != 0 {
			t.Fatalf("GET the link: %d, cookies %v\n%s", resp.StatusCode, resp.Cookies(), page)
		}
	}
	b := newBrowser(t, h.APIURL())
	if resp, body := b.open(path); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/webhooks" {
		t.Fatalf("opening the link: %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, list := b.do("GET", "/console/webhooks", nil); !strings.Contains(list, "Signed in as operator") || !strings.Contains(list, "globex") {
		t.Fatalf("the console after the link:\n%s", list)
	}
	if resp, body := newBrowser(t, h.APIURL()).open(path); resp.StatusCode != http.StatusGone || !strings.Contains(body, "used already") {
		t.Fatalf("the link again: %d, want 410 used already\n%s", resp.StatusCode, body)
	}
	// A portal link opens no console.
	_, m := portalLink(t, h, opToken, "acme", "")
	consolePath := strings.Replace(m["path"].(string), "/portal/", "/console/", 1)
	if resp, body := newBrowser(t, h.APIURL()).open(consolePath); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Fatalf("a portal link at the console: %d, want 404 not valid\n%s", resp.StatusCode, body)
	}
	if resp, _ := newBrowser(t, h.APIURL()).open(m["path"].(string)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the portal link, refused by the console, is still good for the portal: %d", resp.StatusCode)
	}
}
