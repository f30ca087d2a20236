package hub_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/routing"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// batchOf is a CloudEvents batch of contact.updated events of account with
// ids prefix0, prefix1, ...
func batchOf(account, prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(`{"specversion":"1.0","id":"%s%d","source":"test","type":"contact.updated","account":%q,"data":{"email":"u%d@example.com"}}`,
			prefix, i, account, i))
	}
	return out
}

func publishBatch(t *testing.T, r *running, account string, items []string) {
	t.Helper()
	publishBatchAs(t, r, account, items, "")
}

// publishBatchAs publishes a batch on account's batch subject with
// Nats-Msg-Id msgID ("": none).
func publishBatchAs(t *testing.T, r *running, account string, items []string, msgID string) {
	t.Helper()
	m := nats.NewMsg(event.BatchSubject("hookhub", account))
	m.Header.Set("Content-Type", event.BatchContentType)
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	m.Data = []byte("[" + strings.Join(items, ",") + "]")
	if _, err := r.JetStream().PublishMsg(t.Context(), m); err != nil {
		t.Fatalf("publish a batch: %v", err)
	}
}

// TestBatchIngest: a batch of 100 with 2 bad events (data against its
// type's schema, and an event of another account) delivers the 98 others,
// to a plain webhook and, in the batch's order, to an ordered one, and
// stores the 2 as rejected, each with its index and reason, under the
// publishing account. The other account's webhook gets nothing.
func TestBatchIngest(t *testing.T) {
	plain, ordered, other := hubtest.NewReceiver(t), hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("plain", "acme", plain.URL, `"events":["contact.*"]`) + "," +
		webhookJSON("ordered", "acme", ordered.URL, `"events":["contact.*"],"ordering":{"key":"account"}`) + "," +
		webhookJSON("globex-hook", "globex", other.URL, `"events":["*"]`) + `]}`
	r := startHub(t, doc, nil)
	items := batchOf("acme", "evt_b", 0, 100)
	items[17] = `{"specversion":"1.0","id":"evt_b17","source":"test","type":"contact.updated","account":"acme","data":{"email":7}}`
	items[58] = batchOf("globex", "evt_b", 58, 59)[0]
	publishBatch(t, r, "acme", items)

	reasons := map[string]string{}
	for _, m := range r.waitStream(t, streamName("hookhub", "REJECTED"), 2, 20*time.Second) {
		h := m.Headers()
		if h.Get("Hookhub-Account") != "acme" {
			t.Errorf("rejected event %s stored under account %q, want acme (the publisher's)", h.Get(routing.HeaderBatchIndex), h.Get("Hookhub-Account"))
		}
		reasons[h.Get(routing.HeaderBatchIndex)] = h.Get("Hookhub-Reason")
	}
	if r17 := reasons["17"]; !strings.HasPrefix(r17, "batch[17]: ") || !strings.Contains(r17, "data.email") {
		t.Errorf("event 17's reason: %q, want batch[17] and data.email", r17)
	}
	if r58 := reasons["58"]; !strings.HasPrefix(r58, "batch[58]: ") || !strings.Contains(r58, `account "globex" does not match`) {
		t.Errorf("event 58's reason: %q, want batch[58] and the account mismatch", r58)
	}
	if len(reasons) != 2 {
		t.Errorf("rejected: %v, want events 17 and 58", reasons)
	}
	want := map[string]bool{}
	for i := range 100 {
		if i != 17 && i != 58 {
			want[fmt.Sprintf("evt_b%d:plain", i)] = true
		}
	}
	got := map[string]int{}
	for _, q := range plain.WaitFor(t, 98, 30*time.Second) {
		got[q.Header.Get("webhook-id")]++
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, got[id])
		}
	}
	reqs := ordered.WaitFor(t, 98, 30*time.Second)
	prev := -1
	for _, q := range reqs {
		var n int
		if _, err := fmt.Sscanf(q.Header.Get("webhook-id"), "evt_b%d:ordered", &n); err != nil || n <= prev {
			t.Fatalf("ordered webhook got %q after evt_b%d: want the batch's order", q.Header.Get("webhook-id"), prev)
		}
		prev = n
	}
	time.Sleep(500 * time.Millisecond)
	if n := plain.Count(); n != 98 {
		t.Errorf("plain webhook: %d requests, want 98", n)
	}
	if n := other.Count(); n != 0 {
		t.Errorf("globex's webhook got %d requests from acme's batch, want 0", n)
	}
}

// TestBatchDuplicatesAcrossBatches: an event id in two batches (a publisher
// resending) is delivered once, and its second copy is rejected as a
// duplicate with its index.
func TestBatchDuplicatesAcrossBatches(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, `{"webhooks":[`+webhookJSON("w", "acme", rc.URL, `"events":["*"]`)+`]}`, nil)
	publishBatch(t, r, "acme", batchOf("acme", "evt_d", 0, 10))
	rc.WaitFor(t, 10, 20*time.Second)
	publishBatch(t, r, "acme", batchOf("acme", "evt_d", 5, 15)) // 5 to 9 again
	deliveredOnce(t, r, rc, "evt_d", 15, 5)
}

// TestBatchResentDroppedQuietly: the same batch sent again (the same
// Nats-Msg-Id, as the Go SDK sets) is stored, as the events stream keeps
// every message, and dropped where it is routed: each event delivered once,
// and its bad event rejected once, with the first copy.
func TestBatchResentDroppedQuietly(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, `{"webhooks":[`+webhookJSON("w", "acme", rc.URL, `"events":["*"]`)+`]}`, nil)
	items := batchOf("acme", "evt_q", 0, 10)
	items[3] = `{"specversion":"1.0","id":"evt_q3","source":"test","type":"contact.updated","account":"acme","data":{"email":7}}`
	var ids []string
	for i := range 10 {
		ids = append(ids, fmt.Sprintf("evt_q%d", i))
	}
	msgID := publish.BatchMsgID("acme", ids)
	publishBatchAs(t, r, "acme", items, msgID)
	rc.WaitFor(t, 9, 20*time.Second)
	publishBatchAs(t, r, "acme", items, msgID)
	hubtest.Eventually(t, 10*time.Second, "both copies routed", func() bool {
		st, err := r.JetStream().Stream(t.Context(), streamName("hookhub", "EVENTS"))
		if err != nil {
			return false
		}
		subject := event.BatchSubject("hookhub", "acme")
		info, err := st.Info(t.Context(), jetstream.WithSubjectFilter(subject))
		return err == nil && info.State.Subjects[subject] == 0
	})
	rejected := r.streamMsgs(t, streamName("hookhub", "REJECTED"), 100)
	if len(rejected) != 1 || rejected[0].Headers().Get(routing.HeaderBatchIndex) != "3" {
		var got []string
		for _, m := range rejected {
			got = append(got, m.Headers().Get(bus.HeaderReason))
		}
		t.Errorf("rejected %q, want the bad event once", got)
	}
	seen := map[string]int{}
	for _, q := range rc.Requests() {
		seen[q.Header.Get("webhook-id")]++
	}
	for i := range 10 {
		want, id := 1, fmt.Sprintf("evt_q%d:w", i)
		if i == 3 {
			want = 0
		}
		if seen[id] != want {
			t.Errorf("%s delivered %d times, want %d", id, seen[id], want)
		}
	}
}

// deliveredOnce checks that webhook w got events prefix0 to prefix<n-1>
// once each, and that the resent ones were rejected as duplicates, each
// with its batch index.
func deliveredOnce(t *testing.T, r *running, rc *hubtest.Receiver, prefix string, n, resent int) {
	t.Helper()
	rc.WaitFor(t, n, 20*time.Second)
	rejected := r.waitStream(t, streamName("hookhub", "REJECTED"), resent, 20*time.Second)
	for _, m := range rejected {
		if reason := m.Headers().Get("Hookhub-Reason"); !strings.HasPrefix(reason, "batch[") || !strings.Contains(reason, "duplicate: event") {
			t.Errorf("rejected %s: %q, want a duplicate with its batch index", m.Data(), reason)
		}
	}
	time.Sleep(500 * time.Millisecond)
	seen := map[string]int{}
	for _, q := range rc.Requests() {
		seen[q.Header.Get("webhook-id")]++
	}
	for i := range n {
		if id := fmt.Sprintf("%s%d:w", prefix, i); seen[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, seen[id])
		}
	}
	if len(rejected) != resent {
		t.Errorf("%d rejected, want the %d sent again", len(rejected), resent)
	}
}

// TestBatchAfterDirectFirstAttempts: events delivered straight from the
// router (direct_first_attempt: no job exists for them) and then published
// again in a batch are rejected as duplicates there, and the batch's new
// events are delivered: each event reaches the webhook once.
func TestBatchAfterDirectFirstAttempts(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, directDoc("", webhookJSON("w", "acme", rc.URL, `"events":["*"]`)), nil)
	for i, raw := range batchOf("acme", "evt_s", 0, 5) {
		publishRaw(t, r, "hookhub.events.acme.contact.updated", "", raw)
		rc.WaitFor(t, i+1, 20*time.Second) // the lane idle again: straight
	}
	if s := r.Stats(); s.Direct != 5 {
		t.Fatalf("direct %d, jobs %d: the single events were to go straight", s.Direct, s.Jobs)
	}
	publishBatch(t, r, "acme", batchOf("acme", "evt_s", 3, 8)) // 3 and 4 again
	deliveredOnce(t, r, rc, "evt_s", 8, 2)
}

// TestBatchWholeRefused: a message on a batch subject that is not a batch
// is rejected whole, with the reason, and nothing is delivered.
func TestBatchWholeRefused(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, `{"webhooks":[`+webhookJSON("w", "acme", rc.URL, `"events":["*"]`)+`]}`, nil)
	one := batchOf("acme", "evt_w", 0, 1)[0]
	m := nats.NewMsg(event.BatchSubject("hookhub", "acme"))
	m.Data = []byte(one) // one event, not an array
	if _, err := r.JetStream().PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	for body, reason := range rejectedReasons(t, r, 1) {
		if body != one || !strings.Contains(reason, "not a JSON array") {
			t.Errorf("rejected %q: %q", body, reason)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if rc.Count() != 0 {
		t.Errorf("%d requests, want none", rc.Count())
	}
}

// TestBatcherToHub: events sent through sdk/publish's Batcher are each
// delivered once.
func TestBatcherToHub(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r := startHub(t, `{"webhooks":[`+webhookJSON("w", "acme", rc.URL, `"events":["*"]`)+`]}`, nil)
	b := publish.New(r.JetStream(), "hookhub").NewBatcher(publish.BatchOptions{MaxEvents: 40})
	for i := range 250 {
		e := contact(fmt.Sprintf("evt_sdk%d", i))
		e.Source = "test"
		if err := b.Add(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	rc.WaitFor(t, 250, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := rc.Count(); n != 250 {
		t.Errorf("%d requests, want 250", n)
	}
}

// TestBatchIngestToBatchingWebhook: a batched message's events for a
// batching webhook go in whole batches straight from the router (one job per
// max_events), the rest gathered as events that came one by one are. Each
// event arrives once, in requests of max_events and one of the rest, in the
// batch's order; a failed batch is retried whole under its webhook-id, and
// every event's attempts are in the log under its batch.
func TestBatchIngestToBatchingWebhook(t *testing.T) {
	rc := failsFirst(hubtest.NewReceiver(t))
	doc := `{"webhooks":[` + webhookJSON("bw", "acme", rc.URL, `"events":["contact.*"],"batch":{"max_events":10,"max_wait":"300ms"},"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	items := batchOf("acme", "evt_w", 0, 25)
	items[4] = `{"specversion":"1.0","id":"evt_w4","source":"test","type":"contact.updated","account":"acme","data":{"email":7}}`
	publishBatch(t, r, "acme", items)

	reqs := rc.WaitFor(t, 4, 20*time.Second) // 10 + 10 + 4, the first failed once
	time.Sleep(500 * time.Millisecond)
	if n := rc.Count(); n != 4 {
		t.Fatalf("%d requests, want 4 (two batches of 10, one retried, and the 4 left)", n)
	}
	emails := func(q hubtest.Request) []string {
		var evs []struct {
			Data struct{ Email string } `json:"data"`
		}
		if err := json.Unmarshal(q.Body, &evs); err != nil {
			t.Fatalf("batch body: %v: %s", err, q.Body)
		}
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.Data.Email
		}
		return out
	}
	byID := map[string][]string{}
	count := map[string]int{}
	for _, q := range reqs {
		id := q.Header.Get("webhook-id")
		if prev, ok := byID[id]; ok && fmt.Sprint(prev) != fmt.Sprint(emails(q)) {
			t.Errorf("batch %s retried with other events: %v, then %v", id, prev, emails(q))
		}
		byID[id] = emails(q)
		count[id]++
	}
	var sizes []int
	seen := map[string]int{}
	for id, evs := range byID {
		sizes = append(sizes, len(evs))
		for i, e := range evs {
			seen[e]++
			if len(evs) == 10 && i > 0 {
				var a, b int
				fmt.Sscanf(evs[i-1], "u%d@", &a)
				fmt.Sscanf(e, "u%d@", &b)
				if b <= a {
					t.Errorf("batch %s out of the batch's order: %v", id, evs)
				}
			}
		}
	}
	sort.Ints(sizes)
	if fmt.Sprint(sizes) != "[4 10 10]" {
		t.Errorf("batches of %v events, want [4 10 10]", sizes)
	}
	for i := range 25 {
		if e := fmt.Sprintf("u%d@example.com", i); i != 4 && seen[e] != 1 {
			t.Errorf("%s in %d batches, want 1", e, seen[e])
		}
	}
	if seen["u4@example.com"] != 0 || len(seen) != 24 {
		t.Errorf("events delivered: %v, want the 24 good ones", seen)
	}
	retried := 0
	for _, n := range count {
		if n == 2 {
			retried++
		}
	}
	if retried != 1 {
		t.Errorf("requests by webhook-id %v: want one batch sent twice", count)
	}
	// 24 delivered records and 10 retrying ones, each under its batch.
	recs := attempts(t, r, 34)
	outcomes := map[string]int{}
	for _, rec := range recs {
		if _, ok := byID[rec.Batch]; !ok {
			t.Errorf("attempt record of %s under batch %q, not one that was sent", rec.EventID, rec.Batch)
		}
		outcomes[rec.Outcome]++
	}
	if outcomes["delivered"] != 24 || outcomes["retrying"] != 10 {
		t.Errorf("attempt outcomes %v, want 24 delivered and 10 retrying", outcomes)
	}
}

// TestOrderedGetsARepublishedEventOnce: an ordered webhook, alone or beside
// a plain one, gets an event once when it is published again within the
// de-duplication window: in another batch, twice in one batch, or alone
// without its Nats-Msg-Id. (The sequencer delivered each copy before.)
func TestOrderedGetsARepublishedEventOnce(t *testing.T) {
	ordered, plain := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("ord", "acme", ordered.URL, `"events":["contact.*"],"ordering":{"key":"account"}`) + "," +
		webhookJSON("plain", "acme", plain.URL, `"events":["contact.updated"]`) + `]}`
	r := startHub(t, doc, nil)
	publishBatch(t, r, "acme", batchOf("acme", "evt_o", 0, 6))
	ordered.WaitFor(t, 6, 20*time.Second)
	items := batchOf("acme", "evt_o", 3, 9)    // 3 to 5 again
	items = append(items, items[len(items)-1]) // evt_o8 twice in this batch
	publishBatch(t, r, "acme", items)
	// evt_o2 alone, without a Nats-Msg-Id, and a contact.created only the
	// ordered webhook takes, twice the same way.
	publishRaw(t, r, "hookhub.events.acme.contact.updated", "", batchOf("acme", "evt_o", 2, 3)[0])
	solo := `{"specversion":"1.0","id":"evt_solo","source":"test","type":"contact.created","account":"acme","data":{"email":"s@example.com"}}`
	publishRaw(t, r, "hookhub.events.acme.contact.created", "acme:evt_solo", solo)
	publishRaw(t, r, "hookhub.events.acme.contact.created", "", solo)
	ordered.WaitFor(t, 10, 20*time.Second)
	time.Sleep(time.Second)
	seen := map[string]int{}
	for _, q := range ordered.Requests() {
		seen[q.Header.Get("webhook-id")]++
	}
	for _, id := range []string{"evt_o0", "evt_o1", "evt_o2", "evt_o3", "evt_o4", "evt_o5", "evt_o6", "evt_o7", "evt_o8", "evt_solo"} {
		if seen[id+":ord"] != 1 {
			t.Errorf("%s reached the ordered webhook %d times, want once", id, seen[id+":ord"])
		}
	}
	if len(seen) != 10 {
		t.Errorf("ordered webhook got %v", seen)
	}
}
