package hub_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/admin"
)

// TestAPIHostileCalls: every route without a token, with a wrong one, and
// every route that takes a body with a malformed and a huge one: a clear 4xx,
// never a 5xx (api.do fails the test on any 5xx).
func TestAPIHostileCalls(t *testing.T) {
	_, a := startAPIHub(t, `{"accounts":[{"id":"other","api_token":"other-token-for-tests"}]}`)
	public := map[string]bool{"GET /healthz": true, "GET /openapi.json": true, "GET /ip-ranges": true, "GET /v1/accounts/{account}/jwks.json": true}
	huge := `{"x":"` + strings.Repeat("a", 2<<20) + `"}`
	for _, route := range admin.Routes {
		method, path, _ := strings.Cut(route, " ")
		concrete := strings.NewReplacer("{id}", "nope", "{seq}", "1", "{type}", "nope.nope").Replace(path)
		if !public[route] {
			for _, tok := range []string{"", "wrong"} {
				if code, _, _ := a.do(method, concrete, "", tok); code != http.StatusUnauthorized {
					t.Errorf("%s with token %q: %d, want 401", route, tok, code)
				}
			}
			if code, _, _ := a.do(method, concrete, "", "other-token-for-tests"); code < 400 && route != "GET /v1/webhooks" && route != "GET /v1/accounts" && route != "GET /v1/rejected-events" && !strings.HasPrefix(route, "GET /v1/event") && route != "GET /v1/events/{id}/attempts" {
				t.Errorf("%s with another account's token: %d", route, code)
			}
		}
		if method == "POST" || method == "PUT" {
			for name, body := range map[string]string{"malformed": `{"`, "huge": huge} {
				code, m, _ := a.do(method, concrete, body, apiToken)
				if code < 400 || code >= 500 {
					t.Errorf("%s with a %s body: %d %v", route, name, code, m)
				}
				if name == "huge" && code != http.StatusRequestEntityTooLarge && code != http.StatusNotFound {
					t.Errorf("%s with a huge body: %d, want 413 (or 404 for the unknown id)", route, code)
				}
			}
		}
	}
}
