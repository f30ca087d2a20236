package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/publish"
)

// directDoc is a config with delivery.direct_first_attempt on and the given
// delivery settings and webhooks.
func directDoc(delivery string, hooks ...string) string {
	if delivery != "" {
		delivery = "," + delivery
	}
	doc := `{"delivery":{"direct_first_attempt":true` + delivery + `},"webhooks":[`
	for i, h := range hooks {
		if i > 0 {
			doc += ","
		}
		doc += h
	}
	return doc + "]}"
}

// attemptRecords reads n records of the attempt log.
func attemptRecords(t *testing.T, r *running, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range r.waitStream(t, streamName("hookhub", "ATTEMPTS"), n, 20*time.Second) {
		var rec map[string]any
		if err := json.Unmarshal(m.Data(), &rec); err != nil {
			t.Fatalf("attempt record: %v", err)
		}
		out = append(out, rec)
	}
	return out
}

// waitRouted waits until the router holds no event unacknowledged: every
// event's first attempts are settled and the event acked.
func waitRouted(t *testing.T, r *running) {
	t.Helper()
	hubtest.Eventually(t, 20*time.Second, "every event acknowledged by the router", func() bool {
		c, err := r.JetStream().Consumer(t.Context(), streamName("hookhub", "EVENTS"), "router")
		if err != nil {
			t.Fatalf("router consumer: %v", err)
		}
		info, err := c.Info(t.Context())
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}

// TestDirectFirstAttempt: with direct_first_attempt on, events to idle
// webhooks are delivered without a delivery job, each webhook gets each
// event once under <event id>:<webhook id>, every attempt is in the attempt
// log, and the events are acknowledged once delivered.
func TestDirectFirstAttempt(t *testing.T) {
	a, b := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	r := startHub(t, directDoc("", webhookJSON("wa", "acme", a.URL+"/wa", `"events":["contact.*"]`),
		webhookJSON("wb", "acme", b.URL+"/wb", `"events":["contact.*"]`)), nil)
	const n = 20
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_d%d", i)))
		if i%4 == 3 {
			time.Sleep(20 * time.Millisecond) // lanes idle again now and then
		}
	}
	for name, rc := range map[string]*hubtest.Receiver{"wa": a, "wb": b} {
		seen := map[string]bool{}
		for _, req := range rc.WaitFor(t, n, 20*time.Second) {
			id := req.Header.Get("webhook-id")
			if seen[id] {
				t.Errorf("webhook %s got %s twice", name, id)
			}
			seen[id] = true
		}
		for i := range n {
			if id := fmt.Sprintf("evt_d%d:%s", i, name); !seen[id] {
				t.Errorf("webhook %s never got webhook-id %s", name, id)
			}
		}
	}
	waitRouted(t, r)
	hubtest.Eventually(t, 10*time.Second, "every delivery counted", func() bool { return r.Stats().Delivered == 2*n })
	s := r.Stats()
	if s.Direct == 0 {
		t.Errorf("no first attempt was made directly (jobs %d): the switch does nothing", s.Jobs)
	}
	if s.Direct+s.Jobs != 2*n {
		t.Errorf("direct %d + jobs %d, want %d deliveries in all", s.Direct, s.Jobs, 2*n)
	}
	recs := attemptRecords(t, r, 2*n)
	if len(recs) != 2*n {
		t.Errorf("attempt log holds %d records, want %d", len(recs), 2*n)
	}
	for _, rec := range recs {
		if rec["outcome"] != "delivered" || rec["attempt"] != 1.0 || rec["account"] != "acme" {
			t.Errorf("attempt record %v: want attempt 1 delivered in acme", rec)
		}
	}
	time.Sleep(500 * time.Millisecond) // nothing more comes
	if a.Count() != n || b.Count() != n {
		t.Errorf("receivers got %d and %d requests, want %d each", a.Count(), b.Count(), n)
	}
}

// TestDirectFirstAttemptRetried: a direct first attempt that fails is
// retried through the deliveries stream under the same webhook-id, and both
// attempts are recorded.
func TestDirectFirstAttemptRetried(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	r := startHub(t, directDoc("", webhookJSON("crm", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`)), nil)
	r.publish(t, contact("evt_retry"))
	reqs := rc.WaitFor(t, 2, 30*time.Second)
	for _, req := range reqs {
		if got := req.Header.Get("webhook-id"); got != "evt_retry:crm" {
			t.Errorf("request %d: webhook-id %q, want evt_retry:crm", req.N, got)
		}
	}
	hubtest.Eventually(t, 10*time.Second, "delivered", func() bool { return r.Stats().Delivered == 1 })
	if s := r.Stats(); s.Direct != 1 || s.Retried != 1 {
		t.Errorf("stats: direct %d retried %d, want 1 and 1", s.Direct, s.Retried)
	}
	recs := attemptRecords(t, r, 2)
	want := map[float64]string{1: "retrying", 2: "delivered"}
	for _, rec := range recs {
		if a, _ := rec["attempt"].(float64); want[a] != rec["outcome"] || rec["job"] != "evt_retry:crm" {
			t.Errorf("attempt record %v: want job evt_retry:crm, attempt 1 retrying or 2 delivered", rec)
		}
	}
	waitRouted(t, r)
	time.Sleep(time.Second)
	if rc.Count() != 2 {
		t.Errorf("receiver got %d requests, want 2", rc.Count())
	}
}

// TestDirectFirstAttemptDeadLetter: a webhook without retries whose direct
// first attempt fails has the event in the dead letters with the reason.
func TestDirectFirstAttemptDeadLetter(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusBadRequest) })
	r := startHub(t, directDoc("", webhookJSON("crm", "acme", rc.URL, `"events":["*"],"retry":{"schedule":[]}`)), nil)
	r.publish(t, contact("evt_dead"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 30*time.Second)
	h := dl[0].Headers()
	if h.Get(bus.HeaderJob) != "evt_dead:crm" || h.Get(bus.HeaderStatus) != "400" || h.Get(bus.HeaderReason) == "" {
		t.Errorf("dead letter headers %v: want job evt_dead:crm, status 400 and a reason", h)
	}
	if s := r.Stats(); s.Direct != 1 || s.DeadLettered != 1 {
		t.Errorf("stats: direct %d dead-lettered %d, want 1 and 1", s.Direct, s.DeadLettered)
	}
	waitRouted(t, r)
}

// TestDirectSlowEndpointHoldsNoOther: with direct first attempts, a webhook
// whose endpoint hangs takes no delivery slot or routing worker from
// another webhook of the same events, and gets all its events once it
// answers again, each once.
func TestDirectSlowEndpointHoldsNoOther(t *testing.T) {
	slow, fast := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	slow.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		select {
		case <-release:
		case <-time.After(25 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	})
	r := startHub(t, directDoc(`"per_webhook_concurrency":2,"timeout":"30s"`,
		webhookJSON("slow", "acme", slow.URL+"/slow", `"events":["*"]`),
		webhookJSON("fast", "acme", fast.URL+"/fast", `"events":["*"]`)), nil)
	const n = 40
	start := time.Now()
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_s%d", i)))
	}
	fast.WaitFor(t, n, 10*time.Second)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the fast webhook got its %d events after %s while the other hung", n, took)
	}
	if got := slow.Count(); got > 2 {
		t.Errorf("the hanging webhook has %d requests in flight, want at most its per_webhook_concurrency 2", got)
	}
	free()
	seen := map[string]bool{}
	for _, req := range slow.WaitFor(t, n, 30*time.Second) {
		id := req.Header.Get("webhook-id")
		if seen[id] {
			t.Errorf("slow webhook got %s twice", id)
		}
		seen[id] = true
	}
	waitRouted(t, r)
	time.Sleep(500 * time.Millisecond)
	if slow.Count() != n || fast.Count() != n {
		t.Errorf("receivers got %d (slow) and %d (fast), want %d each", slow.Count(), fast.Count(), n)
	}
}

// TestDirectAndJobsUnderBurst: a burst larger than the lanes mixes direct
// first attempts with jobs (a lane at its limit gets jobs); every webhook
// gets every event once, and every event is acknowledged.
func TestDirectAndJobsUnderBurst(t *testing.T) {
	const n, fanout = 300, 3
	var rcs []*hubtest.Receiver
	var hooks []string
	for i := range fanout {
		rc := hubtest.NewReceiver(t)
		rcs = append(rcs, rc)
		hooks = append(hooks, webhookJSON(fmt.Sprintf("w%d", i), "acme", rc.URL, `"events":["*"]`))
	}
	r := startHub(t, directDoc(`"per_webhook_concurrency":4`, hooks...), nil)
	js := r.JetStream()
	for i := range n {
		e := contact(fmt.Sprintf("evt_b%d", i))
		e.SpecVersion, e.Source = "1.0", "burst"
		raw, _ := json.Marshal(e)
		m := nats.NewMsg(e.NATSSubject("hookhub"))
		m.Header.Set(jetstream.MsgIDHeader, publish.MsgID(e.Account, e.ID))
		m.Data = raw
		publishAsync(t, js, e.ID, func() error { _, err := js.PublishMsgAsync(m); return err })
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publishing the burst took over 30s")
	}
	for i, rc := range rcs {
		seen := map[string]bool{}
		for _, req := range rc.WaitFor(t, n, 60*time.Second) {
			id := req.Header.Get("webhook-id")
			if seen[id] {
				t.Errorf("webhook w%d got %s twice", i, id)
			}
			seen[id] = true
		}
	}
	waitRouted(t, r)
	s := r.Stats()
	t.Logf("direct %d, jobs %d of %d deliveries", s.Direct, s.Jobs, n*fanout)
	if s.Direct+s.Jobs != n*fanout || s.Direct == 0 {
		t.Errorf("direct %d + jobs %d, want %d with some direct", s.Direct, s.Jobs, n*fanout)
	}
	time.Sleep(500 * time.Millisecond)
	for i, rc := range rcs {
		if rc.Count() != n {
			t.Errorf("webhook w%d got %d requests, want %d", i, rc.Count(), n)
		}
	}
}

// TestDirectArchivedBeforeStillDelivered: an event whose archive copy is
// already stored when the router first sees it (its archive write went
// through while the router saw no answer, and the consumer forgot the
// delivery in a NATS restart) is delivered through a job, never dropped as
// a duplicate: the archive says it was kept, not that it reached anyone.
// The same for a copy archived by an older hub, which does not say which
// message of the events stream it came from.
func TestDirectArchivedBeforeStillDelivered(t *testing.T) {
	t.Run("by this hub", func(t *testing.T) { testDirectArchivedBefore(t, "this") })
	t.Run("by an older hub", func(t *testing.T) { testDirectArchivedBefore(t, "older") })
	// A copy from elsewhere, removed by hand from the archive: JetStream
	// still calls the write a duplicate, and nothing says where it came from.
	t.Run("removed", func(t *testing.T) { testDirectArchivedBefore(t, "removed") })
}

func testDirectArchivedBefore(t *testing.T, by string) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, directDoc("", webhookJSON("crm", "acme", rc.URL, `"events":["*"]`)), nil)
	js := r.JetStream()
	st, err := js.Stream(t.Context(), streamName("hookhub", "EVENTS"))
	if err != nil {
		t.Fatal(err)
	}
	// The archive copy names the place the event is about to take in the
	// events stream (or none, as an older hub's); the event is stored only
	// there, and tried again under another id when the stream keeper's
	// heartbeat took the place first.
	var id string
	for try := 0; id == ""; try++ {
		if try == 10 {
			t.Fatal("the events stream never stayed still long enough")
		}
		e := contact(fmt.Sprintf("evt_archived%d", try))
		e.SpecVersion, e.Source = "1.0", "test"
		raw, _ := json.Marshal(e)
		info, err := st.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var seq uint64
		switch by {
		case "this":
			seq = info.State.LastSeq + 1
		case "removed":
			seq = info.State.LastSeq + 1000
		}
		ack, err := js.PublishMsg(t.Context(), bus.NewNames("hookhub").ArchiveMsg("acme", e.ID, raw, seq, ""))
		if err != nil {
			t.Fatalf("archive: %v", err)
		}
		if by == "removed" {
			archive, err := js.Stream(t.Context(), ack.Stream)
			if err == nil {
				err = archive.DeleteMsg(t.Context(), ack.Sequence)
			}
			if err != nil {
				t.Fatalf("removing the archive copy: %v", err)
			}
		}
		m := nats.NewMsg("hookhub.events.acme." + e.Type)
		m.Header.Set(jetstream.MsgIDHeader, "acme:"+e.ID)
		m.Data = raw
		if _, err := js.PublishMsg(t.Context(), m, jetstream.WithExpectLastSequence(info.State.LastSeq)); err == nil {
			id = e.ID
		}
	}
	req := rc.WaitFor(t, 1, 20*time.Second)[0]
	if got := req.Header.Get("webhook-id"); got != id+":crm" {
		t.Errorf("webhook-id %q, want %s:crm", got, id)
	}
	waitRouted(t, r)
	if s := r.Stats(); s.Direct != 0 || s.Jobs != 1 || s.Rejected != 0 {
		t.Errorf("stats: direct %d jobs %d rejected %d, want 0, 1, 0", s.Direct, s.Jobs, s.Rejected)
	}
}
