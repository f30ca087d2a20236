package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
)

// startTypedHub is startHub with custom event types declared in the
// config: billing.reminder for the whole hub, invoice.paid (category
// custom by default) for acme.
func startTypedHub(t *testing.T) *hub.Hub {
	t.Helper()
	return hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"event_types":[{"type":"billing.reminder","category":"billing","schema":{"type":"object"},"sample":{}}],
		"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q,
			"event_types":[{"type":"invoice.paid","title":"Invoice paid","schema":{"type":"object"},"sample":{"id":"in_1"}}]},
		{"id":"globex"}]}`, opToken, acmeToken), nil)
}

var (
	categoryRe = regexp.MustCompile(`(?s)<fieldset class="category" data-category>(.*?)</fieldset>`)
	labelRe    = regexp.MustCompile(`data-category-all[^>]*> ([^<]+?) <span`)
	checkboxRe = regexp.MustCompile(`<input type="checkbox" name="events" value="([^"]+)"`)
	optionRe   = regexp.MustCompile(`<option>([^<]+)</option>`)
)

// picker reads a form's event picker: category label -> the types offered
// as checkboxes.
func picker(t *testing.T, page string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range categoryRe.FindAllStringSubmatch(page, -1) {
		l := labelRe.FindStringSubmatch(m[1])
		if l == nil {
			t.Fatalf("a category without its label:\n%s", m[1])
		}
		for _, c := range checkboxRe.FindAllStringSubmatch(m[1], -1) {
			out[l[1]] = append(out[l[1]], c[1])
		}
	}
	if len(out["Contacts"]) == 0 {
		t.Fatalf("no built-in Contacts types in the picker:\n%s", page)
	}
	return out
}

// testOptions are the types a webhook's row of the list offers to test-send.
func testOptions(page, id string) []string {
	m := regexp.MustCompile(`(?s)<select id="type-` + regexp.QuoteMeta(id) + `" name="event_type">(.*?)</select>`).FindStringSubmatch(page)
	if m == nil {
		return nil
	}
	var out []string
	for _, o := range optionRe.FindAllStringSubmatch(m[1], -1) {
		out = append(out, o[1])
	}
	return out
}

// TestConsolePickerOffersTheAccountsDeclaredTypes: types declared for an
// account (in the config, or through the API) are offered in the form of
// that account's webhooks under their category, as built-in ones are, and
// not in another account's; the hub's declared types in every account's;
// a webhook created through the form with one stores it; the test send
// offers them as well.
func TestConsolePickerOffersTheAccountsDeclaredTypes(t *testing.T) {
	h := startTypedHub(t)
	if code, m := apiJSON(t, h, "PUT", "/v1/event-types/order.shipped?account=globex",
		`{"category":"orders","schema":{"type":"object"},"sample":{}}`); code != http.StatusOK {
		t.Fatalf("declare order.shipped for globex: %d %v", code, m)
	}
	ids := map[string]string{}
	for _, a := range []string{"acme", "globex"} {
		code, m := apiJSON(t, h, "POST", "/v1/webhooks", `{"account":"`+a+`","name":"`+a+`-all","url":"http://127.0.0.1:9/`+a+`","events":["*"]}`)
		if code != http.StatusCreated {
			t.Fatalf("create %s's webhook: %d %v", a, code, m)
		}
		ids[a] = m["id"].(string)
	}

	op := newBrowser(t, h.APIURL())
	list := op.signIn(opToken)
	for _, tc := range []struct {
		what, path      string
		offered, absent map[string]string // type -> category label
	}{
		{"acme's edit form", "/console/webhooks/" + ids["acme"] + "/edit",
			map[string]string{"invoice.paid": "Custom", "billing.reminder": "Billing"}, map[string]string{"order.shipped": ""}},
		{"globex's edit form", "/console/webhooks/" + ids["globex"] + "/edit",
			map[string]string{"order.shipped": "Orders", "billing.reminder": "Billing"}, map[string]string{"invoice.paid": ""}},
		{"a new form for acme", "/console/webhooks/new?account=acme",
			map[string]string{"invoice.paid": "Custom", "billing.reminder": "Billing"}, map[string]string{"order.shipped": ""}},
		{"a new form with no account", "/console/webhooks/new",
			map[string]string{"billing.reminder": "Billing"}, map[string]string{"invoice.paid": "", "order.shipped": ""}},
	} {
		resp, page := op.do("GET", tc.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.what, resp.StatusCode, page)
		}
		got := picker(t, page)
		for typ, cat := range tc.offered {
			if !slices.Contains(got[cat], typ) {
				t.Errorf("%s: %s is not offered under %s; the picker: %v", tc.what, typ, cat, got)
			}
		}
		for typ := range tc.absent {
			if strings.Contains(page, `value="`+typ+`"`) {
				t.Errorf("%s offers %s, another account's type", tc.what, typ)
			}
		}
	}

	// The test send offers each webhook its own account's types.
	for _, tc := range []struct{ acct, own, other string }{{"acme", "invoice.paid", "order.shipped"}, {"globex", "order.shipped", "invoice.paid"}} {
		opts := testOptions(list, ids[tc.acct])
		if !slices.Contains(opts, tc.own) || !slices.Contains(opts, "billing.reminder") || slices.Contains(opts, tc.other) {
			t.Errorf("%s's test send offers %v: want %s and billing.reminder, not %s", tc.acct, opts, tc.own, tc.other)
		}
	}

	// Signed in as acme, asking for globex's form gets acme's types: the
	// API answers for the token's account only.
	acme := newBrowser(t, h.APIURL())
	acme.signIn(acmeToken)
	_, page := acme.do("GET", "/console/webhooks/new?account=globex", nil)
	if got := picker(t, page); !slices.Contains(got["Custom"], "invoice.paid") || strings.Contains(page, `value="order.shipped"`) {
		t.Errorf("acme's new form: want invoice.paid and not globex's order.shipped; the picker: %v", got)
	}

	// Created through the form with the declared type checked, the webhook
	// has it; its edit form shows it checked.
	resp, made := acme.do("POST", "/console/webhooks", url.Values{"csrf": {csrfOf(t, page)}, "account": {"acme"}, "name": {"invoices"},
		"url": {"http://127.0.0.1:9/inv"}, "events": {"invoice.paid", "contact.created"}, "active": {"on"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create with invoice.paid: %d\n%s", resp.StatusCode, made)
	}
	var id string
	for _, w := range h.Snapshot().Account("acme") {
		if w.Name == "invoices" {
			id = w.ID
			if !slices.Contains(w.Events, "invoice.paid") {
				t.Errorf("the created webhook's events: %v, want invoice.paid among them", w.Events)
			}
		}
	}
	if id == "" {
		t.Fatal("the webhook created through the form is not in the snapshot")
	}
	if _, page := acme.do("GET", "/console/webhooks/"+id+"/edit", nil); !strings.Contains(page, `value="invoice.paid" checked`) {
		t.Error("the edit form does not show invoice.paid checked")
	}
	// Globex's type, posted for acme anyway, is refused by the API.
	_, list = acme.do("GET", "/console/webhooks", nil)
	resp, body := acme.do("POST", "/console/webhooks", url.Values{"csrf": {csrfOf(t, list)}, "account": {"acme"},
		"url": {"http://127.0.0.1:9/x"}, "events": {"order.shipped"}, "active": {"on"}})
	if resp.StatusCode == http.StatusCreated {
		t.Errorf("acme subscribed to globex's order.shipped through the form\n%s", body)
	}
}
