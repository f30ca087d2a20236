package hub_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPIPortalLinks: POST /v1/accounts/{account}/portal-links answers as
// documented, to the operator's token and the account's own, and another
// account's token is "not found". (The portal itself is tested in
// hub/internal/console.)
func TestAPIPortalLinks(t *testing.T) {
	_, a := startAPIHub(t, `{"accounts":[{"id":"acme","api_token":"`+acmeToken+`"},{"id":"globex","api_token":"`+globexToken+`"}]}`)
	code, m, _ := a.do("POST", "/v1/accounts/acme/portal-links", `{"lifetime":"10m","read_only":true}`, apiToken)
	if code != http.StatusCreated || !strings.HasPrefix(m["path"].(string), "/portal/enter?t=") || m["read_only"] != true {
		t.Fatalf("operator: %d %v", code, m)
	}
	if code, m, _ := a.do("POST", "/v1/accounts/acme/portal-links", "", acmeToken); code != http.StatusCreated || m["read_only"] != false {
		t.Fatalf("acme's token: %d %v", code, m)
	}
	if code, m, _ := a.do("POST", "/v1/accounts/acme/portal-links", "", globexToken); code != http.StatusNotFound || errCode(m) != "not_found" {
		t.Fatalf("globex's token for acme: %d %v, want 404", code, m)
	}
	if code, m, _ := a.do("POST", "/v1/accounts/acme/portal-links", `{"lifetime":"2h"}`, apiToken); code != http.StatusBadRequest || errCode(m) != "bad_parameter" {
		t.Fatalf("a lifetime of 2h: %d %v, want 400", code, m)
	}
}
