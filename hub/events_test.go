package hub_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/publish"
)

// publishRaw stores body on subject with the Nats-Msg-Id msgID ("" for none)
// and returns the ack.
func publishRaw(t *testing.T, r *running, subject, msgID, body string) *jetstream.PubAck {
	t.Helper()
	m := nats.NewMsg(subject)
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	m.Data = []byte(body)
	ack, err := r.JetStream().PublishMsg(t.Context(), m)
	if err != nil {
		t.Fatalf("publish on %s: %v", subject, err)
	}
	return ack
}

// rejectedReasons waits for n rejected events and returns their reasons by
// body.
func rejectedReasons(t *testing.T, r *running, n int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range r.waitStream(t, streamName("hookhub", "REJECTED"), n, 20*time.Second) {
		out[string(m.Data())] = m.Headers().Get(bus.HeaderReason)
	}
	return out
}

// TestOneReadingOfAnEvent: an envelope whose members can be read two ways
// (an attribute twice, in another case) is rejected with its reason before
// it reaches any webhook, so the account, type, initiator and data that were
// routed and checked are the ones signed in the body. Each case here reached
// a webhook with another value in its signed body before.
func TestOneReadingOfAnEvent(t *testing.T) {
	all, api, deals := hubtest.NewReceiver(t), hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	doc := `{"event_types":[{"type":"list.subscribed","schema":{"type":"object"},"sample":{}}],"webhooks":[` + webhookJSON("all", "a", all.URL, `"events":["contact.*","email.*"]`) + `,` +
		webhookJSON("api", "a", api.URL, `"events":["list.*"],"initiators":["api"]`) + `,` +
		webhookJSON("deals", "a", deals.URL, `"events":["deal.*"]`) + `]}`
	r := startHub(t, doc, nil)
	const head = `"specversion":"1.0","source":"s",`
	cases := []struct{ name, subject, body, member string }{
		// routed as account a (last wins, any case), signed as account b
		{"account", "hookhub.events.a.contact.updated",
			`{` + head + `"id":"r1","type":"contact.updated","account":"b","Account":"a","data":{"email":"a@example.com"}}`, `"Account"`},
		// schema-checked on "Data", sent with "data"
		{"data", "hookhub.events.a.email.clicked",
			`{` + head + `"id":"r2","type":"email.clicked","account":"a","data":{"email":42},"Data":{"email":"a@example.com"}}`, `"Data"`},
		// filtered as initiator api, signed as system
		{"initiator", "hookhub.events.a.list.subscribed",
			`{` + head + `"id":"r3","type":"list.subscribed","account":"a","initiator":"system","Initiator":"api","data":{}}`, `"Initiator"`},
		// routed as deal.won, signed as contact.updated
		{"type", "hookhub.events.a.deal.won",
			`{` + head + `"id":"r4","type":"contact.updated","Type":"deal.won","account":"a","data":{}}`, `"Type"`},
		// the same member twice, the second one escaped
		{"twin", "hookhub.events.a.contact.updated",
			`{` + head + `"id":"r5","type":"contact.updated","account":"a","data":{"email":"a@example.com"},"dat\u0061":{"email":"b@example.com"}}`, `"data"`},
	}
	for _, c := range cases {
		publishRaw(t, r, c.subject, "a:"+strings.Split(strings.Split(c.body, `"id":"`)[1], `"`)[0], c.body)
	}
	reasons := rejectedReasons(t, r, len(cases))
	for _, c := range cases {
		reason, ok := reasons[c.body]
		if !ok {
			t.Errorf("%s: not rejected", c.name)
		} else if !strings.Contains(reason, "member "+c.member) {
			t.Errorf("%s: reason %q, want it to name member %s", c.name, reason, c.member)
		}
	}
	if n := all.Count() + api.Count() + deals.Count(); n != 0 {
		t.Errorf("%d requests for rejected events", n)
	}
	// A plain event still goes through, with the routed values in its body.
	publishRaw(t, r, "hookhub.events.a.list.subscribed", "a:ok1",
		`{`+head+`"id":"ok1","type":"list.subscribed","account":"a","initiator":"api","data":{"list":"12"}}`)
	var body struct {
		Type, Account, Initiator string
		Data                     map[string]any
	}
	if err := json.Unmarshal(api.WaitFor(t, 1, 10*time.Second)[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "list.subscribed" || body.Account != "a" || body.Initiator != "api" || body.Data["list"] != "12" {
		t.Errorf("delivered body %+v", body)
	}
}

// TestEventIDsScopedByAccount: two accounts may use the same event id; each
// one's event is stored, delivered, archived and resent on its own.
func TestEventIDsScopedByAccount(t *testing.T) {
	ra, rb := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wa", "a", ra.URL, `"events":["*"]`)+`,`+
		webhookJSON("wb", "b", rb.URL, `"events":["*"]`)+`]}`)
	for _, acct := range []string{"a", "b"} {
		e := contact("shared_1")
		e.Source, e.Account = "test", acct
		ack, err := publishEvent(r.JetStream(), e)
		if err != nil || ack.Duplicate {
			t.Fatalf("account %s: publish of shared_1: %v, duplicate %v", acct, err, ack != nil && ack.Duplicate)
		}
	}
	accountOf := func(req hubtest.Request) string {
		var b struct{ Account string }
		_ = json.Unmarshal(req.Body, &b)
		return b.Account
	}
	if got := accountOf(ra.WaitFor(t, 1, 10*time.Second)[0]); got != "a" {
		t.Errorf("a's webhook got account %q", got)
	}
	if got := accountOf(rb.WaitFor(t, 1, 10*time.Second)[0]); got != "b" {
		t.Errorf("b's webhook got account %q", got)
	}
	// A resend looks up the id within the webhook's own account.
	for _, c := range []struct {
		webhook string
		rc      *hubtest.Receiver
		account string
	}{{"wb", rb, "b"}, {"wa", ra, "a"}} {
		if code, m := a.call("POST", "/v1/webhooks/"+c.webhook+"/resend", `{"event_id":"shared_1"}`); code != 202 {
			t.Fatalf("resend to %s: %d %v", c.webhook, code, m)
		}
		if got := accountOf(c.rc.WaitFor(t, 2, 10*time.Second)[1]); got != c.account {
			t.Errorf("resend to %s delivered account %q's event", c.webhook, got)
		}
	}
	// The id alone matches both accounts' attempts; each says its account.
	// (An attempt is recorded just after its request is answered: wait.)
	seen := map[string]int{}
	hubtest.Eventually(t, 10*time.Second, "two attempts of shared_1 in each account", func() bool {
		_, m := a.call("GET", "/v1/events/shared_1/attempts", "")
		clear(seen)
		for _, at := range m["data"].([]any) {
			seen[at.(map[string]any)["account"].(string)]++
		}
		return seen["a"] == 2 && seen["b"] == 2 && len(seen) == 2
	})
	_, m := a.call("GET", "/v1/events/shared_1/attempts?account=b", "")
	for _, at := range m["data"].([]any) {
		if acct := at.(map[string]any)["account"]; acct != "b" {
			t.Errorf("attempts of b's shared_1 include account %v's", acct)
		}
	}
	if n := len(m["data"].([]any)); n != 2 {
		t.Errorf("attempts of b's shared_1: %d, want 2", n)
	}
}

// TestForgedMsgIDSuppressesNothing: acme publishes, on its own subjects,
// messages under the Nats-Msg-Ids that beta's next event and next batch
// will carry; beta's are delivered all the same. (With a de-duplication
// window on the events stream, one for every account, JetStream dropped
// beta's as duplicates of acme's.)
func TestForgedMsgIDSuppressesNothing(t *testing.T) {
	rb := hubtest.NewReceiver(t)
	r := startHub(t, `{"webhooks":[`+webhookJSON("wb", "beta", rb.URL, `"events":["*"]`)+`]}`, nil)
	ev := func(account, id string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"s","type":"contact.updated","account":"` + account + `","data":{"email":"a@example.com"}}`
	}
	batch := batchOf("beta", "evt_f", 0, 5)
	var ids []string
	for i := range 5 {
		ids = append(ids, fmt.Sprintf("evt_f%d", i))
	}
	publishRaw(t, r, "hookhub.events.acme.contact.updated", "beta:evt_next", ev("acme", "evt_next"))
	publishBatchAs(t, r, "acme", batchOf("acme", "evt_f", 0, 5), publish.BatchMsgID("beta", ids))
	if ack := publishRaw(t, r, "hookhub.events.beta.contact.updated", "beta:evt_next", ev("beta", "evt_next")); ack.Duplicate {
		t.Error("beta's event was stored as a duplicate of acme's")
	}
	publishBatchAs(t, r, "beta", batch, publish.BatchMsgID("beta", ids))
	got := map[string]bool{}
	for _, q := range rb.WaitFor(t, 6, 20*time.Second) {
		got[q.Header.Get("webhook-id")] = true
	}
	for _, id := range append(ids, "evt_next") {
		if !got[id+":wb"] {
			t.Errorf("beta's %s was not delivered", id)
		}
	}
}

// TestMsgIDScopedAndRepublishSaid: the hub takes only <account>:<id> (or
// none) as an event's Nats-Msg-Id; an id not scoped by the account is
// rejected with the rule. The same message sent again (the publisher's
// resend: the same Nats-Msg-Id) is stored, as the events stream keeps every
// message, and dropped where it is routed, without a word. An event published
// again under no Nats-Msg-Id is not delivered twice either, and that is
// said: a log line naming the event and its account, and a rejected entry.
// The same whether the first copy went through a job or straight
// (direct_first_attempt), where no job exists for the copy to meet.
func TestMsgIDScopedAndRepublishSaid(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) { testMsgIDScopedAndRepublishSaid(t, direct) })
	}
}

func testMsgIDScopedAndRepublishSaid(t *testing.T, direct bool) {
	rc := hubtest.NewReceiver(t)
	logs := &syncBuffer{}
	r := startHub(t, fmt.Sprintf(`{"delivery":{"direct_first_attempt":%v},"webhooks":[`, direct)+webhookJSON("wh", "acme", rc.URL, `"events":["*"]`)+`]}`, nil,
		hub.WithLogger(zerolog.New(logs).Level(zerolog.WarnLevel)))
	ev := func(id string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"s","type":"contact.updated","account":"acme","data":{"email":"a@example.com"}}`
	}
	const subject = "hookhub.events.acme.contact.updated"
	bare, other := ev("bare_1"), ev("other_1")
	publishRaw(t, r, subject, "bare_1", bare)     // the id alone
	publishRaw(t, r, subject, "b:other_1", other) // another account's scope
	reasons := rejectedReasons(t, r, 2)
	for body, want := range map[string]string{bare: `here "acme:bare_1"`, other: `here "acme:other_1"`} {
		if !strings.Contains(reasons[body], "must be <account>:<id>") || !strings.Contains(reasons[body], want) {
			t.Errorf("reason %q, want the rule and %s", reasons[body], want)
		}
	}

	first := ev("again_1")
	if ack := publishRaw(t, r, subject, "acme:again_1", first); ack.Duplicate {
		t.Fatal("first publish is a duplicate")
	}
	rc.WaitFor(t, 1, 10*time.Second)
	publishRaw(t, r, subject, "acme:again_1", first) // the resend
	again := strings.Replace(first, `"source":"s"`, `"source":"s2"`, 1)
	publishRaw(t, r, subject, "", again) // no Nats-Msg-Id
	reasons = rejectedReasons(t, r, 3)
	reason := reasons[again]
	if !strings.Contains(reason, `duplicate: event "again_1" of account "acme"`) {
		t.Errorf("republished event: rejected with %q, want a duplicate naming the event and account", reason)
	}
	hubtest.Eventually(t, 5*time.Second, "a log line for the republished event", func() bool {
		return strings.Contains(logs.String(), `duplicate: event \"again_1\" of account \"acme\"`)
	})
	if n := rc.Count(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	// Every message routed (acked, so gone from the events stream), the
	// resend among them.
	hubtest.Eventually(t, 10*time.Second, "the events stream emptied", func() bool {
		st, err := r.JetStream().Stream(t.Context(), streamName("hookhub", "EVENTS"))
		if err != nil {
			return false
		}
		info, err := st.Info(t.Context(), jetstream.WithSubjectFilter(subject))
		return err == nil && info.State.Subjects[subject] == 0
	})
	reasons = rejectedReasons(t, r, 3)
	if reason, ok := reasons[first]; ok || len(reasons) != 3 {
		t.Errorf("the resend was rejected (%q), or %d rejected, want 3: a resend is dropped without a word", reason, len(reasons))
	}
	if s := r.Stats(); direct && s.Direct != 1 {
		t.Errorf("direct %d, jobs %d: the first copy was to go straight", s.Direct, s.Jobs)
	}
}

// TestOperationalTypesReserved: hookhub.* types are the hub's own. One
// published on an account's subject, over NATS or through the API, is
// refused; the hub's own still reach a webhook that subscribes to them (see
// TestGoneDisablesWebhook).
func TestOperationalTypesReserved(t *testing.T) {
	ops := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("ops", "acme", ops.URL, `"events":["hookhub.*","contact.*"]`)+`]}`)
	forged := `{"specversion":"1.0","id":"f1","source":"hookhub","type":"hookhub.webhook.disabled","account":"acme","initiator":"system","data":{"webhook":"ops","account":"acme","reason":"forged"}}`
	publishRaw(t, r, "hookhub.events.acme.hookhub.webhook.disabled", "acme:f1", forged)
	// The operational subject names the account elsewhere: a publisher
	// allowed hookhub.events.acme.> cannot reach it, and a contact event on
	// it is no operational event either.
	wrong := `{"specversion":"1.0","id":"f2","source":"s","type":"contact.updated","account":"acme","data":{"email":"a@example.com"}}`
	publishRaw(t, r, "hookhub.events.$hub.acme.contact.updated", "acme:f2", wrong)
	reasons := rejectedReasons(t, r, 2)
	if !strings.Contains(reasons[forged], "reserved for the hub's own operational events") {
		t.Errorf("forged operational event: %q", reasons[forged])
	}
	if !strings.Contains(reasons[wrong], "does not match the event's account and type") {
		t.Errorf("contact event on the operational subject: %q", reasons[wrong])
	}
	code, m := a.call("POST", "/v1/events", `{"type":"hookhub.webhook.recovered","source":"api","account":"acme","data":{"webhook":"ops","account":"acme"}}`)
	if code != 400 || errCode(m) != "invalid_event" || m["error"].(map[string]any)["field"] != "type" {
		t.Errorf("API publish of hookhub.*: %d %v", code, m)
	}
	code, m = a.call("POST", "/v1/events", `{"type":"contact.updated","source":"api","account":"acme","Account":"other","data":{"email":"a@example.com"}}`)
	if code != 400 || errCode(m) != "invalid_event" || !strings.Contains(m["error"].(map[string]any)["message"].(string), `member "Account"`) {
		t.Errorf("API publish with an attribute in another case: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/events", `{"type":"contact.updated","source":"api","account":"acme","id":"ok","data":{"email":"a@example.com"}}`); code != 202 {
		t.Fatalf("API publish: %d %v", code, m)
	}
	reqs := ops.WaitFor(t, 1, 10*time.Second)
	if n := ops.Count(); n != 1 || !strings.Contains(string(reqs[0].Body), `"type":"contact.updated"`) {
		t.Errorf("%d requests, first %s; want only the contact event", n, reqs[0].Body)
	}
}

// TestArchiveFindsEveryEventOfASubject: the archive keeps events on 65,536
// subjects by a hash of (account, id), so past a few tens of thousands of
// events most subjects hold several. The event by id and a resend must find
// an event that is not its subject's newest, and never another account's
// event of the same subject. (Before, both read the subject's last message
// only: 404 for most events once the archive held some 100,000.)
func TestArchiveFindsEveryEventOfASubject(t *testing.T) {
	names := bus.NewNames("hookhub")
	subject := names.Archive("a", "old_0")
	// ids of the same subject: two more of account a, one of account b
	var sameA []string
	var sameB string
	for i := 1; len(sameA) < 2 || sameB == ""; i++ {
		id := fmt.Sprintf("old_%d", i)
		if len(sameA) < 2 && names.Archive("a", id) == subject {
			sameA = append(sameA, id)
		}
		if sameB == "" && names.Archive("b", id) == subject {
			sameB = id
		}
	}
	ra, rb := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wa", "a", ra.URL, `"events":["*"]`)+`,`+
		webhookJSON("wb", "b", rb.URL, `"events":["*"]`)+`]}`)
	publish := func(account, id string) {
		e := contact(id)
		e.Source, e.Account = "test", account
		e.Data = json.RawMessage(`{"email":"` + id + `@example.com"}`)
		if _, err := publishEvent(r.JetStream(), e); err != nil {
			t.Fatalf("publish %s of %s: %v", id, account, err)
		}
	}
	// In this order, a's newest of the subject is sameA[1], and b's event
	// comes after a's first two.
	publish("a", "old_0")
	publish("a", sameA[0])
	publish("b", sameB)
	publish("a", sameA[1])
	ra.WaitFor(t, 3, 10*time.Second)
	rb.WaitFor(t, 1, 10*time.Second)
	for _, id := range []string{"old_0", sameA[0], sameA[1]} {
		code, m := a.call("GET", "/v1/events/"+id+"?account=a", "")
		if code != 200 || m["id"] != id || m["account"] != "a" {
			t.Errorf("GET /v1/events/%s?account=a: %d %v", id, code, m)
		}
	}
	if code, m := a.call("GET", "/v1/events/"+sameB+"?account=a", ""); code != 404 {
		t.Errorf("b's event %s asked as a's: %d %v, want 404", sameB, code, m)
	}
	if code, m := a.call("GET", "/v1/events/"+sameB+"?account=b", ""); code != 200 || m["account"] != "b" {
		t.Errorf("GET /v1/events/%s?account=b: %d %v", sameB, code, m)
	}
	// The oldest of the subject resent: its own data, to its own account.
	if code, m := a.call("POST", "/v1/webhooks/wa/resend", `{"event_id":"old_0"}`); code != 202 {
		t.Fatalf("resend old_0: %d %v", code, m)
	}
	if body := string(ra.WaitFor(t, 4, 10*time.Second)[3].Body); !strings.Contains(body, `"old_0@example.com"`) {
		t.Errorf("resend of old_0 delivered %s", body)
	}
	// b's id resent to a's webhook is absent, as any unknown id.
	if code, m := a.call("POST", "/v1/webhooks/wa/resend", `{"event_id":"`+sameB+`"}`); code != 404 {
		t.Errorf("resend of b's %s to a's webhook: %d %v, want 404", sameB, code, m)
	}
}
