package console_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/console"
)

// fromAddr makes b connect from the loopback address ip (127.0.0.0/8 is
// all loopback on Linux), so the hub sees another client.
func (b *browser) fromAddr(t *testing.T, ip string) *browser {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	b.c.Transport = tr
	t.Cleanup(tr.CloseIdleConnections)
	return b
}

func TestConsoleSignInLimitsFailuresPerAddress(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	_, page := b.do("GET", "/console/signin", nil)
	for i := 1; i <= console.SigninFailures; i++ {
		resp, body := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {"wrong-" + strconv.Itoa(i)}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong try %d: %d, want 401\n%s", i, resp.StatusCode, body)
		}
		page = body
	}
	// The 6th try is refused before its token is even checked: the right
	// one too, from this address.
	for _, tok := range []string{"wrong-6", opToken} {
		resp, body := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {tok}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a try past the limit: %d, want 429\n%s", resp.StatusCode, body)
		}
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After %q: want 1 to 60 seconds", resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(body, "Too many failed sign-ins") || strings.Contains(body, tok) {
			t.Errorf("the 429 page: want a clear message and no token echoed\n%s", body)
		}
		page = body
	}
	// Another address is not held up by this one's failures.
	other := newBrowser(t, h.APIURL()).fromAddr(t, "127.0.0.2")
	if list := other.signIn(opToken); !strings.Contains(list, "Signed in as operator") {
		t.Fatalf("the right token from another address: not signed in\n%s", list)
	}
}
