package hub_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
)

// TestSelectionAsProvidersOffer: Brevo's selection (a category on, single
// events off) and GetResponse's (events caused by an import left out), end
// to end. The events a receiver gets are exactly those its webhook selects,
// and an import shows in the body as via "import".
func TestSelectionAsProvidersOffer(t *testing.T) {
	brevo, getresponse, all := hubtest.NewReceiver(t), hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	doc := `{"webhooks":[` +
		webhookJSON("brevo", "acme", brevo.URL, `"events":["email.*","!email.opened","!email.proxy_opened"]`) + `,` +
		webhookJSON("getresponse", "acme", getresponse.URL, `"events":["contact.subscribed","contact.field_changed"],"exclude_imports":true`) + `,` +
		webhookJSON("all", "acme", all.URL, `"events":["email.*","contact.*"]`) + `]}`
	r := startHub(t, doc, nil)
	pub := func(id, typ, via, data string) {
		r.publish(t, &event.Event{ID: id, Type: typ, Account: "acme", Initiator: "system", Via: via, Data: json.RawMessage(data)})
	}
	const email = `{"email":"ada@example.com"}`
	pub("e_open", "email.opened", "", email)
	pub("e_proxy", "email.proxy_opened", "", email)
	pub("e_click", "email.clicked", "", email)
	pub("c_import", "contact.subscribed", "import", email)
	pub("c_form", "contact.subscribed", "form", email)
	pub("f_import", "contact.field_changed", "import", `{"email":"ada@example.com","field":"city"}`)
	pub("f_user", "contact.field_changed", "", `{"email":"ada@example.com","field":"city"}`)

	got := func(rc *hubtest.Receiver, n int) string {
		var ids []string
		for _, req := range rc.WaitFor(t, n, 10*time.Second) {
			id, _, _ := strings.Cut(req.Header.Get("webhook-id"), ":")
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return strings.Join(ids, " ")
	}
	reqs := all.WaitFor(t, 7, 10*time.Second)
	if g := got(brevo, 1); g != "e_click" {
		t.Errorf("email.* without opens got %q, want e_click", g)
	}
	if g := got(getresponse, 2); g != "c_form f_user" {
		t.Errorf("exclude_imports got %q, want c_form f_user", g)
	}
	for _, req := range reqs {
		if strings.HasPrefix(req.Header.Get("webhook-id"), "c_import:") && !strings.Contains(string(req.Body), `"initiator":"system","via":"import"`) {
			t.Errorf("an import's body does not say so: %s", req.Body)
		}
	}
	// Nothing more arrives later: what was left out stays out.
	hubtest.Eventually(t, 10*time.Second, "the last events routed", func() bool { return r.Stats().Events >= 7 })
	if brevo.Count() != 1 || getresponse.Count() != 2 {
		t.Errorf("brevo got %d, getresponse %d requests; want 1 and 2", brevo.Count(), getresponse.Count())
	}
}
