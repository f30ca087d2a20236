package hub_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// TestHostileEvents: oversize, deeply nested, invalid UTF-8 and
// header-injecting events are rejected with their reason; none crashes the
// hub or reaches a receiver; a good event after them is delivered.
func TestHostileEvents(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, `{"webhooks":[`+webhookJSON("all", "acme", rc.URL, `"events":["*"]`)+`]}`, nil)
	env := func(id, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"s","type":"contact.updated","account":"acme","data":%s}`, id, data)
	}
	cases := []struct {
		name, subject, body, reason string
	}{
		{"oversize", "hookhub.events.acme.contact.updated", env("big", `{"email":"a@example.com","x":"`+strings.Repeat("x", 2<<20)+`"}`), "over the limit"},
		{"deep nesting", "hookhub.events.acme.contact.updated", env("deep", `{"email":"a@example.com","x":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`), "not a JSON CloudEvent"},
		{"invalid UTF-8", "hookhub.events.acme.contact.updated", env("utf", "{\"email\":\"a\xff\xfe@example.com\"}"), "not valid UTF-8"},
		{"header injection in id", "hookhub.events.acme.contact.updated", strings.Replace(env("x", `{"email":"a@example.com"}`), `"id":"x"`, `"id":"x\r\nX-Injected: 1"`, 1), "id: must be"},
		{"wildcard account", "hookhub.events.acme.contact.updated", strings.Replace(env("w", `{"email":"a@example.com"}`), `"account":"acme"`, `"account":"acme.>"`, 1), "account"},
		{"another account's subject", "hookhub.events.acme.contact.updated", strings.Replace(env("o", `{"email":"a@example.com"}`), `"account":"acme"`, `"account":"globex"`, 1), "does not match the event's account"},
	}
	for _, c := range cases {
		m := nats.NewMsg(c.subject)
		m.Data = []byte(c.body)
		if _, err := r.JetStream().PublishMsg(t.Context(), m); err != nil {
			t.Fatalf("%s: publish: %v", c.name, err)
		}
	}
	rej := r.waitStream(t, streamName("hookhub", "REJECTED"), len(cases), 30*time.Second)
	reasons := make([]string, 0, len(rej))
	for _, m := range rej {
		reasons = append(reasons, m.Headers().Get(bus.HeaderReason))
	}
	for _, c := range cases {
		found := false
		for _, reason := range reasons {
			found = found || strings.Contains(reason, c.reason)
		}
		if !found {
			t.Errorf("%s: no rejection saying %q among %q", c.name, c.reason, reasons)
		}
	}
	stranger := contact("evt_stranger")
	stranger.Account = "nobody" // an account no webhook belongs to: routed to nothing
	r.publish(t, stranger)
	r.publish(t, contact("evt_fine"))
	reqs := rc.WaitFor(t, 1, 10*time.Second)
	hubtest.Eventually(t, 5*time.Second, "both good events routed", func() bool { return r.Stats().Events >= 2 })
	if len(reqs) != 1 || reqs[0].Header.Get("X-Injected") != "" {
		t.Errorf("receiver got %d requests; headers %v", len(reqs), reqs[0].Header)
	}
}
