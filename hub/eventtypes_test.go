package hub_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/event"
)

const (
	declAcmeTok   = "acme-token-for-declared-types"
	declGlobexTok = "globex-token-for-declared-types"
	invoiceDecl   = `{"type":"invoice.paid","title":"Invoice paid","description":"The CRM's invoice was paid.","aliases":["payment received"],
	  "schema":{"type":"object","required":["invoice_id"],"properties":{"invoice_id":{"type":"string"},"amount":{"type":"number"}}},
	  "sample":{"invoice_id":"inv_1","amount":12.5}}`
	dealWonDecl = `{"type":"crm.deal_won","title":"Deal won","category":"crm",
	  "schema":{"type":"object","required":["deal"],"properties":{"deal":{"type":"string"}}},"sample":{"deal":"d_sample"}}`
)

// rejectedByID waits for n rejected events and returns their reasons by
// Nats-Msg-Id (<account>:<id>).
func rejectedByID(t *testing.T, r *running, n int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range r.waitStream(t, streamName("hookhub", "REJECTED"), n, 20*time.Second) {
		out[m.Headers().Get(bus.HeaderEventID)] = m.Headers().Get(bus.HeaderReason)
	}
	return out
}

// TestDeclaredEventTypes: custom types declared in the config (for the
// hub, or for one account) behave as built-in ones: their events are
// checked against their schema at publish and delivered, they are listed
// and searched in the catalog (each account sees its own), and they can be
// test-sent with their sample. An event of a type neither built in nor
// declared for its account is rejected with its reason, where before it
// was delivered unchecked.
func TestDeclaredEventTypes(t *testing.T) {
	rc, rg := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	doc := `{"event_types":[` + invoiceDecl + `],
	  "accounts":[{"id":"acme","api_token":"` + declAcmeTok + `","event_types":[` + dealWonDecl + `]},{"id":"globex","api_token":"` + declGlobexTok + `"}],
	  "webhooks":[` + webhookJSON("w_acme", "acme", rc.URL, `"events":["invoice.*","crm.*"]`) + `,` +
		webhookJSON("w_globex", "globex", rg.URL, `"events":["*"]`) + `]}`
	r, a := startAPIHub(t, doc)
	ev := func(id, account, typ, data string) *event.Event {
		return &event.Event{ID: id, Type: typ, Account: account, Source: "crm", Data: json.RawMessage(data)}
	}
	r.publish(t, ev("inv_ok", "acme", "invoice.paid", `{"invoice_id":"inv_9","amount":3}`))
	r.publish(t, ev("won_ok", "acme", "crm.deal_won", `{"deal":"d_1"}`))
	r.publish(t, ev("inv_bad", "acme", "invoice.paid", `{"invoice_id":9}`))
	r.publish(t, ev("lead", "acme", "crm.lead", `{}`))
	r.publish(t, ev("won_globex", "globex", "crm.deal_won", `{"deal":"d_2"}`))
	reasons := rejectedByID(t, r, 3)
	for id, want := range map[string]string{
		"acme:inv_bad":      "does not match the schema of invoice.paid: data.invoice_id",
		"acme:lead":         `"crm.lead" is neither in the catalog nor declared for account "acme"`,
		"globex:won_globex": `"crm.deal_won" is neither in the catalog nor declared for account "globex"`,
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("%s: rejected with %q, want %q", id, reasons[id], want)
		}
	}
	got := map[string]bool{}
	for _, req := range rc.WaitFor(t, 2, 10*time.Second) {
		var b struct{ Type string }
		_ = json.Unmarshal(req.Body, &b)
		got[b.Type+" "+req.Header.Get("webhook-id")] = true
	}
	if !got["invoice.paid inv_ok:w_acme"] || !got["crm.deal_won won_ok:w_acme"] {
		t.Errorf("acme's receiver got %v, want invoice.paid inv_ok and crm.deal_won won_ok", got)
	}

	// Through the API: the same check, answered at once.
	code, m, _ := a.do("POST", "/v1/events", `{"type":"crm.lead","source":"s","account":"acme","data":{}}`, declAcmeTok)
	if code != 400 || !strings.Contains(fmt.Sprint(m), "neither in the catalog nor declared") {
		t.Errorf("API publish of an undeclared type: %d %v", code, m)
	}
	if code, m, _ = a.do("POST", "/v1/events", `{"type":"invoice.paid","source":"s","account":"acme","data":{"invoice_id":"inv_api"}}`, declAcmeTok); code != 202 {
		t.Errorf("API publish of a declared type: %d %v", code, m)
	}

	// Listed and searched: acme sees its own type and the hub's; globex
	// only the hub's.
	types := func(tok, query string) map[string]map[string]any {
		t.Helper()
		code, _, raw := a.do("GET", "/v1/event-types"+query, "", tok)
		var out struct{ Data []map[string]any }
		if err := json.Unmarshal(raw, &out); code != 200 || err != nil {
			t.Fatalf("GET /v1/event-types%s: %d %s", query, code, raw)
		}
		byType := map[string]map[string]any{}
		for _, d := range out.Data {
			byType[d["type"].(string)] = d
		}
		return byType
	}
	if l := types(declAcmeTok, "?q=deal+won"); l["crm.deal_won"]["custom"] != true || l["crm.deal_won"]["account"] != "acme" {
		t.Errorf("acme searching deal won: %v", l)
	}
	if l := types(declAcmeTok, "?q=payment+received"); len(l) != 1 || l["invoice.paid"] == nil {
		t.Errorf("acme searching an alias of invoice.paid: %v", l)
	}
	if l := types(declGlobexTok, ""); l["crm.deal_won"] != nil || l["invoice.paid"] == nil || l["email.clicked"] == nil {
		t.Errorf("globex lists acme's type, or misses the hub's or the catalog's")
	}
	if l := types(apiToken, "?category=crm&account=*"); len(l) != 1 || l["crm.deal_won"] == nil {
		t.Errorf("the admin token, every account's crm types: %v", l)
	}
	if code, m, _ = a.do("GET", "/v1/event-types/crm.deal_won", "", declAcmeTok); code != 200 || m["sample"] == nil {
		t.Errorf("acme gets its type: %d %v", code, m)
	}
	if code, _, _ = a.do("GET", "/v1/event-types/crm.deal_won", "", declGlobexTok); code != 404 {
		t.Errorf("globex gets acme's type: %d, want 404", code)
	}

	// Test-sendable with its sample.
	code, m, _ = a.do("POST", "/v1/webhooks/w_acme/test", `{"event_type":"crm.deal_won"}`, declAcmeTok)
	if code != 200 || m["delivered"] != true {
		t.Fatalf("test send of a declared type: %d %v", code, m)
	}
	if last := rc.Requests()[rc.Count()-1]; !strings.Contains(string(last.Body), `"d_sample"`) {
		t.Errorf("test send body %s, want the declared sample", last.Body)
	}
	if code, m, _ = a.do("POST", "/v1/webhooks/w_globex/test", `{"event_type":"crm.deal_won"}`, declGlobexTok); code != 400 || errCode(m) != "unknown_event_type" {
		t.Errorf("globex test-sends acme's type: %d %v", code, m)
	}

	// Lists over events that never concern lists: created, with a warning.
	code, m, _ = a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"url":%q,"events":["deal.*","invoice.paid"],"lists":["12"]}`, rc.URL), declAcmeTok)
	if ws, _ := m["warnings"].([]any); code != 201 || len(ws) != 1 || !strings.Contains(fmt.Sprint(ws[0]), "lists: can never match") {
		t.Errorf("lists over deal.* and invoice.paid: %d %v", code, m)
	}

	// A webhook naming a mistyped or unknown type is refused, with a hint.
	code, m, _ = a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"url":%q,"events":["email.clickd","contact"]}`, rc.URL), declAcmeTok)
	msg := fmt.Sprint(m)
	if code != 400 || !strings.Contains(msg, `did you mean "email.clicked"`) || !strings.Contains(msg, `did you mean "contact.*"`) {
		t.Errorf("webhook naming email.clickd and contact: %d %v", code, m)
	}
	if rg.Count() != 0 {
		t.Errorf("globex's * webhook got %d requests: acme's types and rejected events reached it", rg.Count())
	}
}

// TestAcceptUndeclaredTypes: the opt-in keeps the old behaviour: an event
// of a type nobody declared is delivered, unchecked.
func TestAcceptUndeclaredTypes(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, `{"accept_undeclared_types":true,"webhooks":[`+webhookJSON("w", "acme", rc.URL, `"events":["crm.*"]`)+`]}`, nil)
	r.publish(t, &event.Event{ID: "lead1", Type: "crm.lead", Account: "acme", Data: json.RawMessage(`{"anything":1}`)})
	if b := string(rc.WaitFor(t, 1, 10*time.Second)[0].Body); !strings.Contains(b, `"type":"crm.lead"`) {
		t.Errorf("delivered %s", b)
	}
}

// TestAPIDeclaredEventTypes: types declared through the API, for one
// account (its token) or the whole hub (the admin token), behave as the
// config's: webhooks may name them, their events are checked and delivered,
// they are listed and test-sendable; a second hub on the same NATS sees
// them; removed, their events are rejected again. The config's own
// declarations cannot be changed through the API.
func TestAPIDeclaredEventTypes(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"event_types":[` + invoiceDecl + `],
	  "accounts":[{"id":"acme","api_token":"` + declAcmeTok + `"},{"id":"globex","api_token":"` + declGlobexTok + `"}]}`
	r, a := startAPIHub(t, doc)
	// A second hub on the same NATS, running before the declaration.
	_, a2 := startAPIHub(t, `{"nats_url":"`+r.NATSURL()+`","nats_listen":"none","event_types":[`+invoiceDecl+`],
	  "accounts":[{"id":"acme","api_token":"`+declAcmeTok+`"}]}`)
	// Before: unknown, so a webhook cannot name it.
	hook := fmt.Sprintf(`{"url":%q,"events":["ticket.*"]}`, rc.URL)
	if code, m, _ := a.do("POST", "/v1/webhooks", hook, declAcmeTok); code != 400 {
		t.Fatalf("a webhook on ticket.* before the type is declared: %d %v", code, m)
	}
	decl := `{"title":"Ticket opened","description":"A support ticket was opened.","aliases":["new ticket"],
	  "schema":{"type":"object","required":["ticket"],"properties":{"ticket":{"type":"string"}}},"sample":{"ticket":"t_sample"}}`
	code, m, _ := a.do("PUT", "/v1/event-types/ticket.opened", decl, declAcmeTok)
	if code != 200 || m["custom"] != true || m["account"] != "acme" {
		t.Fatalf("acme declares ticket.opened: %d %v", code, m)
	}
	for _, c := range []struct {
		tok, path, body, want string
		code                  int
	}{
		{declAcmeTok, "/v1/event-types/ticket.opened", `{"schema":{"type":"object","properties":{"n":{"type":"integer"}}},"sample":{"n":"x"}}`, "does not match the type's schema", 400},
		{declAcmeTok, "/v1/event-types/email.clicked", decl, "is a built-in type", 400},
		{declAcmeTok, "/v1/event-types/invoice.paid", decl, "already declared at the config file", 400},
		{declAcmeTok, "/v1/event-types/ticket.closed", `{"schema":{"$ref":"file:///etc/passwd"},"sample":{}}`, "self-contained", 400},
		{declAcmeTok, "/v1/event-types/ticket.closed?account=globex", decl, "sees only account acme", 403},
		{apiToken, "/v1/event-types/ticket.opened", decl, "already declared at account acme", 400},
	} {
		code, m, _ := a.do("PUT", c.path, c.body, c.tok)
		if code != c.code || !strings.Contains(fmt.Sprint(m), c.want) {
			t.Errorf("PUT %s: %d %v, want %d saying %q", c.path, code, m, c.code, c.want)
		}
	}
	code, m, _ = a.do("POST", "/v1/webhooks", hook, declAcmeTok)
	if code != 201 {
		t.Fatalf("a webhook on ticket.* once declared: %d %v", code, m)
	}
	id := m["id"].(string)
	if code, m, _ = a.do("POST", "/v1/webhooks/"+id+"/test", `{"event_type":"ticket.opened"}`, declAcmeTok); code != 200 || m["delivered"] != true {
		t.Errorf("test send of an API-declared type: %d %v", code, m)
	}
	if !strings.Contains(string(rc.Requests()[rc.Count()-1].Body), "t_sample") {
		t.Errorf("the test send did not carry the declared sample")
	}
	// Globex does not know acme's type.
	if code, _, raw := a.do("GET", "/v1/event-types?q=new+ticket", "", declGlobexTok); code != 200 || strings.Contains(string(raw), "ticket.opened") {
		t.Errorf("globex finds acme's type: %d %s", code, raw)
	}
	// The second hub learns of it through the bucket.
	hubtest.Eventually(t, 10*time.Second, "the second hub knows ticket.opened", func() bool {
		code, _, _ := a2.do("GET", "/v1/event-types/ticket.opened", "", declAcmeTok)
		return code == 200
	})
	r.publish(t, &event.Event{ID: "tk1", Type: "ticket.opened", Account: "acme", Data: json.RawMessage(`{"ticket":"t_1"}`)})
	r.publish(t, &event.Event{ID: "tk2", Type: "ticket.opened", Account: "acme", Data: json.RawMessage(`{"ticket":1}`)})
	hubtest.Eventually(t, 10*time.Second, "tk1 delivered", func() bool {
		for _, req := range rc.Requests() {
			if strings.HasPrefix(req.Header.Get("webhook-id"), "tk1:") {
				return true
			}
		}
		return false
	})
	// Removed: a webhook naming it stays, its events are rejected.
	if code, _, _ = a.do("DELETE", "/v1/event-types/ticket.opened", "", declAcmeTok); code != 204 {
		t.Errorf("acme removes ticket.opened: %d", code)
	}
	if code, _, _ = a.do("DELETE", "/v1/event-types/ticket.opened", "", declAcmeTok); code != 404 {
		t.Errorf("removed twice: %d, want 404", code)
	}
	if code, m, _ = a.do("DELETE", "/v1/event-types/invoice.paid", "", apiToken); code != 409 || errCode(m) != "read_only" {
		t.Errorf("the admin removes the config's invoice.paid: %d %v", code, m)
	}
	r.publish(t, &event.Event{ID: "tk3", Type: "ticket.opened", Account: "acme", Data: json.RawMessage(`{"ticket":"t_3"}`)})
	reasons := rejectedByID(t, r, 2)
	if !strings.Contains(reasons["acme:tk2"], "does not match the schema of ticket.opened") ||
		!strings.Contains(reasons["acme:tk3"], `"ticket.opened" is neither in the catalog nor declared`) {
		t.Errorf("rejected: %v", reasons)
	}
	// The hub-wide declaration by the admin token reaches every account.
	if code, m, _ = a.do("PUT", "/v1/event-types/ticket.closed", decl, apiToken); code != 200 || m["account"] != nil {
		t.Errorf("the admin declares ticket.closed for the hub: %d %v", code, m)
	}
	if code, _, _ = a.do("GET", "/v1/event-types/ticket.closed", "", declGlobexTok); code != 200 {
		t.Errorf("globex does not see the hub's ticket.closed: %d", code)
	}
}
