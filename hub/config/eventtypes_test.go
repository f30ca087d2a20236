package config_test

import (
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
)

func webhookWith(events string) string {
	return `{"id":"w","account":"acme","url":"https://example.com/","secret":"` + secret + `","events":` + events + `}`
}

// TestUnknownEventNamesRefused: a webhook naming a type that is neither
// built in nor declared is refused, with the closest names as a hint.
func TestUnknownEventNamesRefused(t *testing.T) {
	doc := `{"webhooks":[` + webhookWith(`["email.clickd","contact","!email.opend","sms.*","invoice.paid","crm.*"]`) + `]}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	wantFieldErrors(t, err, []fieldWant{
		{"webhooks[0].events[0]", `"email.clickd" is not an event type (did you mean "email.clicked"`},
		{"webhooks[0].events[1]", `"contact" is not an event type (did you mean "contact.*"`},
		{"webhooks[0].events[2]", `did you mean "!email.opened"`},
		{"webhooks[0].events[4]", `"invoice.paid" is not an event type`},
		{"webhooks[0].events[5]", `"crm.*" matches no event type`},
	})
	for _, fe := range fieldErrors(t, err) {
		if fe.Path == "webhooks[0].events[3]" {
			t.Errorf("sms.* refused: %v", fe)
		}
	}
	// Only exclusions: nothing to take out of.
	_, err = config.Parse("hub.json", []byte(`{"webhooks":[`+webhookWith(`["!email.opened"]`)+`]}`), nil)
	wantFieldErrors(t, err, []fieldWant{{"webhooks[0].events", "only exclusions"}})
	// The catalog's names, wildcards over them and exclusions pass.
	ok := `{"webhooks":[` + webhookWith(`["email.*","!email.opened","!email.proxy_opened","contact.tag_added","hookhub.webhook.*","order.*"]`) + `]}`
	if _, err := config.Parse("hub.json", []byte(ok), nil); err != nil {
		t.Errorf("catalog names refused: %v", err)
	}
}

const invoiceType = `{"type":"invoice.paid","title":"Invoice paid","description":"The CRM's invoice was paid.",
  "schema":{"type":"object","required":["invoice_id"],"properties":{"invoice_id":{"type":"string"},"amount":{"type":"number"}}},
  "sample":{"invoice_id":"inv_1","amount":12.5}}`

// TestDeclaredTypes: a type declared for the hub or for an account can be
// named by that account's webhooks, and only by those it is declared for.
func TestDeclaredTypes(t *testing.T) {
	doc := `{"event_types":[` + invoiceType + `],
	  "accounts":[{"id":"acme","event_types":[{"type":"crm.deal_won","schema":{"type":"object"},"sample":{}}]}],
	  "webhooks":[` + webhookWith(`["invoice.paid","crm.*"]`) + `]}`
	c, err := config.Parse("hub.json", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.KnownType("acme", "crm.deal_won") || c.KnownType("globex", "crm.deal_won") || !c.KnownType("globex", "invoice.paid") {
		t.Error("KnownType: want crm.deal_won for acme only, invoice.paid for every account")
	}
	other := strings.Replace(doc, `"account":"acme"`, `"account":"globex"`, 1)
	_, err = config.Parse("hub.json", []byte(other), nil)
	wantFieldErrors(t, err, []fieldWant{{"webhooks[0].events[1]", `"crm.*" matches no event type`}})
}

// TestDeclaredTypesChecked: a declaration must be new, its schema usable
// and self-contained, its sample a match for its schema.
func TestDeclaredTypesChecked(t *testing.T) {
	doc := `{"event_types":[
	  {"type":"email.clicked","schema":{"type":"object"},"sample":{}},
	  {"type":"hookhub.mine","schema":{"type":"object"},"sample":{}},
	  {"type":"invoice.paid","schema":{"type":"object","properties":{"n":{"type":"integer"}}},"sample":{"n":"one"}},
	  {"type":"invoice.sent","schema":{"$ref":"file:///etc/passwd"},"sample":{}},
	  {"type":"invoice.void","schema":{"type":"object","minProperties":"x"},"sample":{}},
	  {"type":"invoice.paid","schema":{"type":"object"},"sample":{}}],
	  "accounts":[{"id":"acme","event_types":[{"type":"invoice.paid","schema":{"type":"object"},"sample":{}}]}]}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, fe := range fieldErrors(t, err) {
		if strings.Contains(fe.Msg, "root:") || strings.Contains(fe.Msg, "/etc/passwd:") {
			t.Errorf("an error shows a file's content: %v", fe)
		}
	}
	// The schema check comes first: an invalid schema is reported by it.
	if !strings.Contains(err.Error(), "minProperties") && !strings.Contains(err.Error(), "event_types[4]") {
		t.Errorf("invalid schema not reported: %v", err)
	}
	doc = strings.Replace(doc, `{"type":"invoice.void","schema":{"type":"object","minProperties":"x"},"sample":{}},`, "", 1)
	_, err = config.Parse("hub.json", []byte(doc), nil)
	wantFieldErrors(t, err, []fieldWant{
		{"event_types[0].type", "is a built-in type"},
		{"event_types[1].type", "hub's own"},
		{"event_types[2].sample.n", "does not match the type's schema"},
		{"event_types[3].schema", "self-contained"},
		{"event_types[4].type", `"invoice.paid" is already declared at event_types[2]`},
		{"accounts[0].event_types[0].type", `"invoice.paid" is already declared at event_types[2]`},
	})
}

// TestAcceptUndeclaredTypes: the opt-in lets webhooks name types outside
// the catalog, but not misspell the catalog's own.
func TestAcceptUndeclaredTypes(t *testing.T) {
	doc := `{"accept_undeclared_types":true,"webhooks":[` + webhookWith(`["invoice.paid","crm.*","email.clickd"]`) + `]}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	fes := fieldErrors(t, err)
	if len(fes) != 1 || fes[0].Path != "webhooks[0].events[2]" || !strings.Contains(fes[0].Msg, "email.clicked") {
		t.Errorf("want one error, at events[2] (a typo in the catalog's namespace); got %v", err)
	}
}

// TestListsThatCanNeverMatch: a webhook's lists filter over events none of
// which concern lists is legal but never delivers: validation warns.
func TestListsThatCanNeverMatch(t *testing.T) {
	doc := `{"webhooks":[` +
		strings.Replace(webhookWith(`["deal.*","transactional.*"]`), `"id":"w"`, `"id":"w0","lists":["12"]`, 1) + `,` +
		strings.Replace(webhookWith(`["deal.*","contact.tag_added"]`), `"id":"w"`, `"id":"w1","lists":["12"]`, 1) + `,` +
		strings.Replace(webhookWith(`["email.*","!email.*","sms.*"]`), `"id":"w"`, `"id":"w2","lists":["12"]`, 1) + `,` +
		strings.Replace(webhookWith(`["deal.*"]`), `"id":"w"`, `"id":"w3"`, 1) + `]}`
	c, err := config.Parse("hub.json", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := c.Warnings()
	if len(ws) != 2 || !strings.HasPrefix(ws[0], "hub.json: webhooks[0].lists: can never match") || !strings.HasPrefix(ws[1], "hub.json: webhooks[2].lists") {
		t.Errorf("warnings %q, want webhooks[0] (deal and transactional email) and webhooks[2] (email excluded, sms)", ws)
	}
	if w := strings.Join(ws, "\n"); !strings.Contains(w, "contact.*") || !strings.Contains(w, "list.*") {
		t.Errorf("the warning does not say which types concern lists: %s", w)
	}
}
