package delivery

import (
	"net/http"
	"strings"
	"testing"
)

// TestMaskedHidesAuthorizationWithoutScheme: an attempt record names the
// Authorization scheme only when it is one; a bare credential (a custom
// header or a plugin's "Authorization: sk_live_...") is masked whole.
func TestMaskedHidesAuthorizationWithoutScheme(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"Bearer tok_abcdefgh", "Bearer [redacted]"},
		{"basic dXNlcjpwYXNz", "basic [redacted]"},
		{"sk_live_abc123", "[redacted]"},
		{"sk_live_abc123 more", "[redacted]"},
	} {
		got := masked(http.Header{"Authorization": {c.value}, "Proxy-Authorization": {c.value}})
		for _, k := range []string{"Authorization", "Proxy-Authorization"} {
			if got.Get(k) != c.want {
				t.Errorf("%s: %q shows as %q, want %q", k, c.value, got.Get(k), c.want)
			}
			if v := got.Get(k); strings.Contains(v, "abc123") || strings.Contains(v, "tok_") || strings.Contains(v, "dXNl") {
				t.Errorf("%s: %q shows its credential: %q", k, c.value, v)
			}
		}
	}
}
