package hub_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

func contact(id string) *event.Event {
	return &event.Event{ID: id, Type: "contact.updated", Account: "acme", Initiator: "api",
		Data: json.RawMessage(`{"email":"ada@example.com"}`)}
}

// TestRetryUntilSuccess: a receiver that fails twice gets the same webhook-id
// three times, and the third attempt is delivered.
func TestRetryUntilSuccess(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	doc := `{"webhooks":[` + webhookJSON("flaky", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s","1s","1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_retry"))
	reqs := rc.WaitFor(t, 3, 30*time.Second)
	for _, q := range reqs {
		if q.Header.Get("webhook-id") != "evt_retry:flaky" {
			t.Errorf("attempt %d webhook-id = %q, want the same id on every retry", q.N, q.Header.Get("webhook-id"))
		}
		// The event has no time: the body's timestamp is when the hub
		// first stored its job, the same on every retry (a retry is a new
		// message, whose own time must not leak in).
		if string(q.Body) != string(reqs[0].Body) {
			t.Errorf("attempt %d body = %s, want the first attempt's %s", q.N, q.Body, reqs[0].Body)
		}
	}
	hubtest.Eventually(t, 10*time.Second, "the delivery to be counted", func() bool { return r.Stats().Delivered == 1 })
	if s := r.Stats(); s.Retried != 2 || s.DeadLettered != 0 {
		t.Errorf("stats = %+v, want 2 retries and no dead letters", s)
	}
	recs := attempts(t, r, 3)
	outcomes := []string{recs[0].Outcome, recs[1].Outcome, recs[2].Outcome}
	if fmt.Sprint(outcomes) != "[retrying retrying delivered]" {
		t.Errorf("attempt log outcomes = %v", outcomes)
	}
	if recs[0].Status != 500 || recs[0].Response != "down for maintenance\n" || recs[0].NextRetryAt == nil || recs[0].Attempt != 1 || recs[2].Attempt != 3 {
		t.Errorf("first attempt record = %+v", recs[0])
	}
}

func attempts(t *testing.T, r *running, n int) []delivery.Attempt {
	t.Helper()
	var out []delivery.Attempt
	for _, m := range r.waitStream(t, streamName("hookhub", "ATTEMPTS"), n, 10*time.Second) {
		var a delivery.Attempt
		if err := json.Unmarshal(m.Data(), &a); err != nil {
			t.Fatalf("attempt record: %v", err)
		}
		out = append(out, a)
	}
	return out
}

// TestDeadLetterAfterLastTry: an endpoint that always fails gets
// len(schedule)+1 attempts, then the job is in the dead-letter stream with its
// reason, and nothing is left in the deliveries stream.
func TestDeadLetterAfterLastTry(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { http.Error(w, "nope", http.StatusBadGateway) })
	doc := `{"webhooks":[` + webhookJSON("broken", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	e := r.publish(t, contact("evt_dead"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 30*time.Second)
	if len(dl) != 1 {
		t.Fatalf("dead letters = %d, want 1", len(dl))
	}
	m := dl[0]
	h := m.Headers()
	if h.Get(bus.HeaderWebhook) != "broken" || h.Get(bus.HeaderAttempts) != "2" || h.Get(bus.HeaderStatus) != "502" ||
		!strings.Contains(h.Get(bus.HeaderReason), "502") || h.Get(bus.HeaderJob) != "evt_dead:broken" {
		t.Errorf("dead letter headers = %v", h)
	}
	if m.Subject() != "hookhub.dlq.acme.broken" {
		t.Errorf("dead letter subject = %s", m.Subject())
	}
	got, err := event.Parse(m.Data())
	if err != nil || got.ID != e.ID {
		t.Errorf("dead letter holds %s (%v), want the event", m.Data(), err)
	}
	if n := rc.Count(); n != 2 {
		t.Errorf("receiver got %d attempts, want 2", n)
	}
	hubtest.Eventually(t, 5*time.Second, "an empty deliveries stream (but its keeper)", func() bool {
		s, err := r.JetStream().Stream(t.Context(), streamName("hookhub", "DELIVERIES"))
		if err != nil {
			return false
		}
		info, err := s.Info(t.Context(), jetstream.WithSubjectFilter("hookhub.>"))
		if err != nil {
			return false
		}
		delete(info.State.Subjects, bus.NewNames("hookhub").DeliveriesKeeper())
		return len(info.State.Subjects) == 0
	})
}

// TestRetryAfter: a 503 with Retry-After: 3 puts the next attempt at least 3s
// later although the schedule says 1s.
func TestRetryAfter(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	doc := `{"webhooks":[` + webhookJSON("busy", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_ra"))
	reqs := rc.WaitFor(t, 2, 30*time.Second)
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 3*time.Second {
		t.Errorf("second attempt came %s after the first; Retry-After asked for 3s", gap)
	}
	rec := attempts(t, r, 1)[0]
	if rec.NextRetryAt == nil || rec.NextRetryAt.Sub(rec.At) < 3*time.Second-10*time.Millisecond {
		t.Errorf("attempt record = %+v, want next retry 3s or more after", rec)
	}
}

// TestSlowEndpointDoesNotHoldUpOthers: one endpoint hangs on every request;
// another gets all its events while the first still hangs.
func TestSlowEndpointDoesNotHoldUpOthers(t *testing.T) {
	release := make(chan struct{})
	slow := hubtest.NewReceiver(t)
	slow.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
	})
	fast := hubtest.NewReceiver(t)
	doc := `{"delivery":{"concurrency":16,"per_webhook_concurrency":4,"timeout":"60s"},"webhooks":[` +
		webhookJSON("slow", "acme", slow.URL, `"events":["*"]`) + "," +
		webhookJSON("fast", "acme", fast.URL, `"events":["*"]`) + `]}`
	r := startHub(t, doc, nil)
	t.Cleanup(func() { close(release) }) // runs before the hub's cleanup: in-flight requests end
	const n = 40
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_%d", i)))
	}
	fast.WaitFor(t, n, 30*time.Second)
	if got := slow.Count(); got > 4 {
		t.Errorf("slow endpoint has %d requests in flight, want at most its per-webhook bound of 4", got)
	}
}

// TestRejectedEvents: what cannot be accepted lands in the rejected stream
// with its reason, is counted, and is not delivered.
func TestRejectedEvents(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("all", "acme", rc.URL, `"events":["*"]`) + `]}`
	r := startHub(t, doc, nil)
	cases := []struct {
		subject, body, reason string
	}{
		{"hookhub.events.acme.contact.updated", `{not json`, "not a JSON CloudEvent"},
		{"hookhub.events.acme.contact.updated", `{"specversion":"1.0","id":"x1","source":"s","type":"contact.updated","data":{}}`, "account: is required"},
		{"hookhub.events.acme.x", `{"specversion":"1.0","id":"x2","source":"s","account":"acme","data":{}}`, "type: is required"},
		{"hookhub.events.acme.email.clicked", `{"specversion":"1.0","id":"x3","source":"s","type":"email.clicked","account":"acme","data":{"email":42}}`, "does not match the schema of email.clicked"},
		{"hookhub.events.globex.contact.updated", `{"specversion":"1.0","id":"x4","source":"s","type":"contact.updated","account":"acme","data":{"email":"a@example.com"}}`, "does not match the event's account and type"},
	}
	for _, c := range cases {
		m := nats.NewMsg(c.subject)
		m.Data = []byte(c.body)
		if _, err := r.JetStream().PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	rej := r.waitStream(t, streamName("hookhub", "REJECTED"), len(cases), 20*time.Second)
	reasons := map[string]string{} // body -> reason; routing is concurrent, so order is not kept
	for _, m := range rej {
		reasons[string(m.Data())] = m.Headers().Get(bus.HeaderReason)
	}
	for i, c := range cases {
		reason, ok := reasons[c.body]
		if !ok {
			t.Errorf("case %d: not in the rejected stream as published", i)
		} else if !strings.Contains(reason, c.reason) {
			t.Errorf("case %d: reason %q, want it to say %q", i, reason, c.reason)
		}
	}
	if got := r.Stats().Rejected; got != int64(len(cases)) {
		t.Errorf("rejected count = %d, want %d", got, len(cases))
	}
	if rc.Count() != 0 {
		t.Errorf("a rejected event was delivered")
	}
}

// TestTargetPolicyAtDial: without the insecure switch, a name that resolves
// to loopback is refused when dialled, and the job is dead-lettered at once
// with the reason.
func TestTargetPolicyAtDial(t *testing.T) {
	rc := hubtest.NewTLSReceiver(t)
	u, _ := url.Parse(rc.URL)
	doc := fmt.Sprintf(`{"delivery":{"allow_insecure_targets":false,"allowed_ports":[%s],"ca_file":%q},"webhooks":[%s]}`,
		u.Port(), rc.CAFile(t), webhookJSON("local", "acme", "https://localhost:"+u.Port()+"/", `"events":["*"]`))
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_ssrf"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 20*time.Second)
	if reason := dl[0].Headers().Get(bus.HeaderReason); !strings.Contains(reason, "loopback") {
		t.Errorf("reason = %q, want it to name the loopback refusal", reason)
	}
	if dl[0].Headers().Get(bus.HeaderAttempts) != "1" {
		t.Errorf("a refused target was retried: attempts %s", dl[0].Headers().Get(bus.HeaderAttempts))
	}
	if rc.Count() != 0 {
		t.Error("the refused target received a request")
	}
}

// TestRetryWithoutWakeUpIsSwept: a retry whose second passed with no wake-up
// (say a hub's clock behind the server's, or a crash mid-move) is moved back
// by the sweep a hub runs when it starts, and delivered with its attempt
// number; jobs due later wait.
func TestRetryWithoutWakeUpIsSwept(t *testing.T) {
	ns := hubtest.StartNATS(t)
	rc := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"nats_url":%q,"webhooks":[%s]}`, ns.ClientURL(), webhookJSON("wh", "acme", rc.URL, `"events":["*"]`))
	first := hubtest.StartHub(t, doc, nil) // creates the streams
	names := bus.NewNames("hookhub")
	park := func(id string, due time.Time) {
		e := contact(id) // a job holds an event the router accepted: a whole envelope
		e.Source = "test"
		publish.Fill(e)
		raw, _ := json.Marshal(e)
		m := nats.NewMsg(names.Retry(due.Unix(), "acme", "wh"))
		m.Header.Set(bus.HeaderJob, id+":wh")
		m.Header.Set(bus.HeaderWebhook, "wh")
		m.Header.Set(bus.HeaderEventID, id)
		m.Header.Set(bus.HeaderAttempt, "2")
		m.Header.Set(delivery.HeaderTarget, names.Delivery("acme", "wh"))
		m.Data = raw
		if _, err := first.JetStream().PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	park("evt_lost", time.Now().Add(-time.Minute))
	park("evt_later", time.Now().Add(time.Hour))
	hubtest.StartHub(t, doc, nil) // a second hub sweeps as it starts
	reqs := rc.WaitFor(t, 1, 20*time.Second)
	if id := reqs[0].Header.Get("webhook-id"); id != "evt_lost:wh" {
		t.Errorf("delivered %s, want the overdue retry", id)
	}
	time.Sleep(time.Second)
	if n := rc.Count(); n != 1 {
		t.Errorf("%d requests: the retry due in an hour went early", n)
	}
	recs := attempts(t, &running{Hub: first}, 1)
	if recs[0].Attempt != 2 || recs[0].Outcome != delivery.OutcomeDelivered {
		t.Errorf("attempt record %+v, want attempt 2 delivered", recs[0])
	}
}

// TestUnreadableBatchJobSetAside: a batch job whose data cannot be read
// (only the hub writes jobs, so this is a fault, not an input) is not
// dropped: it is stored as it is with the rejected events, with the reason,
// listed for its account, and nothing is sent.
func TestUnreadableBatchJobSetAside(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("wh", "acme", rc.URL, `"events":["*"],"batch":{"max_events":10,"max_wait":"50ms"}`) + `]}`
	r, a := startAPIHub(t, doc)
	names := bus.NewNames("hookhub")
	corrupt := []byte(`[{"job":1,"event_id":"evt_1","event":{}}]`)
	m := nats.NewMsg(names.Delivery("acme", "wh"))
	m.Header.Set(bus.HeaderJob, "batch_corrupt")
	m.Header.Set(bus.HeaderWebhook, "wh")
	m.Header.Set(bus.HeaderBatch, "1")
	m.Header.Set(bus.HeaderAttempt, "2")
	m.Data = corrupt
	if _, err := r.JetStream().PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	set := r.waitStream(t, streamName("hookhub", "REJECTED"), 1, 20*time.Second)
	if len(set) != 1 {
		t.Fatalf("rejected = %d, want the unreadable batch job", len(set))
	}
	h := set[0].Headers()
	if !strings.Contains(h.Get(bus.HeaderReason), "unreadable") || h.Get(bus.HeaderJob) != "batch_corrupt" ||
		h.Get(bus.HeaderWebhook) != "wh" || h.Get(bus.HeaderAccount) != "acme" {
		t.Errorf("stored with headers %v", h)
	}
	if !bytes.Equal(set[0].Data(), corrupt) {
		t.Errorf("stored %s, want the job's data %s", set[0].Data(), corrupt)
	}
	code, list := a.call("GET", "/v1/rejected-events?account=acme", "")
	if data, _ := list["data"].([]any); code != 200 || len(data) != 1 {
		t.Errorf("acme's rejected events: %d %v", code, list)
	}
	if n := rc.Count(); n != 0 {
		t.Errorf("%d requests for an unreadable batch", n)
	}
	hubtest.Eventually(t, 5*time.Second, "the job gone from the deliveries stream", func() bool {
		s, err := r.JetStream().Stream(t.Context(), streamName("hookhub", "DELIVERIES"))
		if err != nil {
			return false
		}
		_, err = s.GetLastMsgForSubject(t.Context(), names.Delivery("acme", "wh"))
		return err != nil
	})
}
