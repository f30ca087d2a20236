package eventtypes_test

import (
	"encoding/json"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
)

func decl(typ string) config.EventType {
	return config.EventType{Type: typ, Schema: json.RawMessage(`{"type":"object","required":["n"]}`), Sample: json.RawMessage(`{"n":1}`)}
}

// TestRegistryScopes: a type declared for an account is that account's
// alone; one declared for the hub is every account's; both are checked.
func TestRegistryScopes(t *testing.T) {
	set, err := schemacheck.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{EventTypes: []config.EventType{decl("invoice.paid")},
		Accounts: []config.Account{{ID: "acme", EventTypes: []config.EventType{decl("crm.deal_won")}}, {ID: "globex"}}}
	r, err := eventtypes.New(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		account, typ string
		known        bool
	}{
		{"acme", "crm.deal_won", true}, {"globex", "crm.deal_won", false}, {"", "crm.deal_won", false},
		{"globex", "invoice.paid", true}, {"acme", "email.clicked", true}, {"acme", "crm.lead", false},
	} {
		if _, ok := r.Lookup(c.account, c.typ); ok != c.known {
			t.Errorf("Lookup(%q, %q) = %v, want %v", c.account, c.typ, ok, c.known)
		}
	}
	issues, known, err := r.Validate("acme", "crm.deal_won", map[string]any{})
	if err != nil || !known || len(issues) != 1 {
		t.Errorf("Validate of data without n: %v %v %v, want one issue", issues, known, err)
	}
	if got := r.Conflict("globex", "crm.deal_won"); got != "" {
		t.Errorf("globex declaring acme's type conflicts with %q; each account has its own", got)
	}
	if got := r.Conflict("", "crm.deal_won"); got != "the config file" && got != "account acme" {
		t.Errorf("the hub declaring acme's type: conflict %q", got)
	}
	if got := r.Conflict("acme", "invoice.paid"); got != "the config file" {
		t.Errorf("acme declaring the hub's type: conflict %q", got)
	}
	n := 0
	for _, et := range r.List("globex", false) {
		if et.Custom {
			n++
		}
	}
	if n != 1 {
		t.Errorf("globex lists %d declared types, want 1 (the hub's)", n)
	}
}
