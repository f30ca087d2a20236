package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

type fixedSnapshot struct{ s *webhooks.Snapshot }

func (f fixedSnapshot) Snapshot() *webhooks.Snapshot { return f.s }

// unacked is a message whose Ack is lost: the hub died after its writes.
type unacked struct{ jetstream.Msg }

func (unacked) Ack() error { return nil }

// testBus is a real embedded JetStream with the hub's streams.
func testBus(t *testing.T) *bus.Bus {
	t.Helper()
	s, err := bus.StartServer("127.0.0.1:-1", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{URL: s.ClientURL(), Prefix: "hookhub", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func streamCount(t *testing.T, b *bus.Bus, name string) uint64 {
	t.Helper()
	s, err := b.JS.Stream(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

func batchEvent(account, id string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"test","type":"contact.updated","account":%q,"data":{"n":1}}`, id, account)
}

// TestBatchRedelivered: a hub that dies mid-batch (after writing some of
// its jobs, or all of them but before the ack) loses nothing and duplicates
// nothing when the batch comes again: every job and rejection is written
// under its own message id, and the second write of each is a duplicate
// JetStream drops.
func TestBatchRedelivered(t *testing.T) {
	b := testBus(t)
	var ws []*webhooks.Webhook
	for _, id := range []string{"w1", "w2"} {
		w, err := webhooks.New(config.Webhook{ID: id, Account: "acme", URL: "https://example.com/" + id, Events: []string{"contact.*"}, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, config.Retry{}, false)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	r := New(b, fixedSnapshot{webhooks.NewSnapshot(ws)}, nil, zerolog.Nop(), 1, nil)
	items := make([]string, 10)
	for i := range items {
		items[i] = batchEvent("acme", "evt_"+strconv.Itoa(i))
	}
	items[3] = batchEvent("globex", "evt_3")
	items[7] = `"not an event"`
	raw := "[" + strings.Join(items, ",") + "]"
	m := nats.NewMsg(event.BatchSubject("hookhub", "acme"))
	m.Data = []byte(raw)
	if _, err := b.JS.PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	cons, err := b.JS.Consumer(t.Context(), b.Names.EventsStream, b.Names.RouterConsumer)
	if err != nil {
		t.Fatal(err)
	}
	next := func() jetstream.Msg {
		t.Helper()
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			return msg
		}
		t.Fatalf("the batch did not come again: %v", batch.Error())
		return nil
	}

	// Delivery 1: the hub wrote the jobs of events 0 to 2 and died.
	first := next()
	for i := range 3 {
		ev, _ := accept.CheckBatched(nil, "acme", []byte(items[i]))
		for _, w := range ws {
			if _, err := b.JS.PublishMsg(t.Context(), jobMsg(b.Names, ev, w.ID, []byte(items[i]))); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = first.Nak()
	// Delivery 2: every write made, the ack lost.
	r.handle(t.Context(), unacked{next()})
	// Delivery 3: routed again, and acked.
	third := next()
	if md, _ := third.Metadata(); md.NumDelivered != 3 {
		t.Fatalf("delivered %d times, want 3", md.NumDelivered)
	}
	r.handle(t.Context(), third)

	if got, want := streamCount(t, b, b.Names.DeliveriesStream), uint64(8*2); got != want {
		t.Errorf("jobs stored: %d, want %d (8 good events x 2 webhooks, each once)", got, want)
	}
	if got := streamCount(t, b, b.Names.ArchiveStream); got != 8 {
		t.Errorf("events archived: %d, want 8", got)
	}
	if got := streamCount(t, b, b.Names.RejectedStream); got != 2 {
		t.Errorf("rejections stored: %d, want 2 (each once)", got)
	}
	info, err := cons.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumPending != 0 {
		t.Errorf("the batch is not settled: %d awaiting ack, %d pending", info.NumAckPending, info.NumPending)
	}
	if got := r.Stats.Rejected.Load(); got != 2*2 {
		t.Errorf("rejected counted %d over two routings, want 4", got)
	}
}

// TestBatchJobsForABatchingWebhook: a batch's events for a batching webhook
// are stored as one job per max_events (bus.BatchJobMsg), in the batch's
// order, and the rest as single jobs; another webhook gets a job per event.
// Routed again (the ack lost), the batch stores nothing twice.
func TestBatchJobsForABatchingWebhook(t *testing.T) {
	b := testBus(t)
	r := New(b, fixedSnapshot{webhooks.NewSnapshot(batchingAndPlain(t, 3))}, nil, zerolog.Nop(), 1, nil)
	items := make([]string, 9)
	for i := range items {
		items[i] = batchEvent("acme", "evt_"+strconv.Itoa(i))
	}
	items[2] = `"not an event"`
	cons := publishBatch(t, b, items)
	for round := range 2 {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			if round == 0 {
				r.handle(t.Context(), unacked{msg})
			} else {
				r.handle(t.Context(), msg)
			}
		}
	}
	// 8 good events: bw gets batches (0,1,3) and (4,5,6) and single jobs
	// for 7 and 8; pw gets 8 jobs.
	batches, singles := storedJobs(t, b)
	for _, j := range batches {
		if j.webhook != "bw" || j.subject != b.Names.Delivery("acme", "bw") || j.header.Get(bus.HeaderBatch) != strconv.Itoa(len(j.items)) {
			t.Errorf("batch job for %s on %s, %s events: %v", j.webhook, j.subject, j.header.Get(bus.HeaderBatch), j.header)
		}
		jobIDs := make([]string, len(j.items))
		for i, it := range j.items {
			jobIDs[i] = it.Job
			if it.Job != accept.JobID(it.EventID, "bw") || it.Stored.IsZero() || !strings.Contains(string(it.Raw), it.EventID) {
				t.Errorf("batch item %+v", it)
			}
		}
		if id := j.header.Get(bus.HeaderJob); id != bus.BatchID(jobIDs) {
			t.Errorf("batch job id %q, want %q", id, bus.BatchID(jobIDs))
		}
	}
	var got []string
	for _, j := range batches {
		var ids []string
		for _, it := range j.items {
			ids = append(ids, it.EventID)
		}
		got = append(got, strings.Join(ids, ","))
	}
	if want := []string{"evt_0,evt_1,evt_3", "evt_4,evt_5,evt_6"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batch jobs %v, want %v", got, want)
	}
	if fmt.Sprint(singles["bw"]) != "[evt_7 evt_8]" {
		t.Errorf("bw's single jobs %v, want [evt_7 evt_8]", singles["bw"])
	}
	if len(singles["pw"]) != 8 {
		t.Errorf("pw's jobs %v, want one for each of the 8 events", singles["pw"])
	}
	if got := r.Stats.Jobs.Load(); got != 16 {
		t.Errorf("jobs counted %d, want 16 (8 events x 2 webhooks, once)", got)
	}
}

// TestBatchJobTooLargeGoesSingle: a batch job that would not fit in a NATS
// message goes as single jobs (which the engine gathers), never as a write
// that fails on every routing.
func TestBatchJobTooLargeGoesSingle(t *testing.T) {
	w, err := webhooks.New(config.Webhook{ID: "bw", Account: "acme", URL: "https://example.com/bw", Events: []string{"contact.*"},
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Batch: &config.Batch{MaxEvents: 2}}, config.Retry{}, false)
	if err != nil {
		t.Fatal(err)
	}
	var accepted []*routed
	for i := range 4 {
		raw := []byte(batchEvent("acme", "evt_"+strconv.Itoa(i)))
		ev, reason := accept.CheckBatched(nil, "acme", raw)
		if reason != "" {
			t.Fatal(reason)
		}
		accepted = append(accepted, &routed{ev: ev, raw: raw, matches: []*webhooks.Webhook{w}})
	}
	names := bus.NewNames("hookhub")
	for _, c := range []struct {
		max, jobs, batches int
	}{{1 << 20, 2, 2}, {200, 4, 0}} {
		jobs, owners, err := batchJobs(names, "acme", accepted, time.Now(), c.max)
		if err != nil {
			t.Fatal(err)
		}
		batches := 0
		for i, j := range jobs {
			if j.Header.Get(bus.HeaderBatch) != "" {
				batches++
				if len(j.Data) > c.max || len(owners[i]) != 2 {
					t.Errorf("max %d: batch job of %d bytes, %d events", c.max, len(j.Data), len(owners[i]))
				}
			}
		}
		if len(jobs) != c.jobs || batches != c.batches {
			t.Errorf("max %d bytes: %d jobs, %d of them batches; want %d and %d", c.max, len(jobs), batches, c.jobs, c.batches)
		}
	}
}

// TestBatchIDTwiceGoesOnce: an event id twice in one batch reaches a
// batching webhook once (in its batch job) and a plain one once; the later
// copies are rejected with their index.
func TestBatchIDTwiceGoesOnce(t *testing.T) {
	b := testBus(t)
	r := New(b, fixedSnapshot{webhooks.NewSnapshot(batchingAndPlain(t, 2))}, nil, zerolog.Nop(), 1, nil)
	var items []string
	for _, id := range []string{"e0", "e1", "e0", "e2", "e0"} {
		items = append(items, batchEvent("acme", id))
	}
	cons := publishBatch(t, b, items)
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		r.handle(t.Context(), msg)
	}
	batches, singles := storedJobs(t, b)
	count := map[string]int{}
	for wh, ids := range singles {
		for _, id := range ids {
			count[id+":"+wh]++
		}
	}
	for _, j := range batches {
		for _, it := range j.items {
			count[it.EventID+":"+j.webhook]++
		}
	}
	for _, id := range []string{"e0", "e1", "e2"} {
		for _, wh := range []string{"bw", "pw"} {
			if count[id+":"+wh] != 1 {
				t.Errorf("%s in %d of %s's jobs, want 1", id, count[id+":"+wh], wh)
			}
		}
	}
	if got := streamCount(t, b, b.Names.RejectedStream); got != 2 {
		t.Errorf("rejected %d, want the 2 later copies of e0", got)
	}
}

// batchingAndPlain are two webhooks of acme for contact events: bw batching
// maxEvents, pw one at a time.
func batchingAndPlain(t *testing.T, maxEvents int) []*webhooks.Webhook {
	t.Helper()
	var out []*webhooks.Webhook
	for _, c := range []config.Webhook{
		{ID: "bw", Batch: &config.Batch{MaxEvents: maxEvents}},
		{ID: "pw"},
	} {
		c.Account, c.URL, c.Events, c.Secret = "acme", "https://example.com/"+c.ID, []string{"contact.*"}, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		w, err := webhooks.New(c, config.Retry{}, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

// storedJob is a batch job as the deliveries stream holds it.
type storedJob struct {
	webhook, subject string
	header           nats.Header
	items            []bus.BatchItem
}

// storedJobs reads the deliveries stream's jobs: the batch jobs, and the
// event ids of the single jobs by webhook.
func storedJobs(t *testing.T, b *bus.Bus) (batches []storedJob, singles map[string][]string) {
	t.Helper()
	st, err := b.JS.Stream(t.Context(), b.Names.DeliveriesStream)
	if err != nil {
		t.Fatal(err)
	}
	singles = map[string][]string{}
	for seq := uint64(1); ; seq++ {
		msg, err := st.GetMsg(t.Context(), seq)
		if err != nil {
			return batches, singles
		}
		wh := msg.Header.Get(bus.HeaderWebhook)
		if msg.Subject == b.Names.DeliveriesKeeper() {
			continue
		}
		if msg.Header.Get(bus.HeaderBatch) == "" {
			singles[wh] = append(singles[wh], msg.Header.Get(bus.HeaderEventID))
			continue
		}
		j := storedJob{webhook: wh, subject: msg.Subject, header: msg.Header}
		if err := json.Unmarshal(msg.Data, &j.items); err != nil {
			t.Fatalf("batch job: %v", err)
		}
		batches = append(batches, j)
	}
}

// publishBatch stores items as one batch of acme's, and returns the router's
// consumer, to take it from.
func publishBatch(t *testing.T, b *bus.Bus, items []string) jetstream.Consumer {
	t.Helper()
	m := nats.NewMsg(event.BatchSubject("hookhub", "acme"))
	m.Data = []byte("[" + strings.Join(items, ",") + "]")
	if _, err := b.JS.PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	cons, err := b.JS.Consumer(t.Context(), b.Names.EventsStream, b.Names.RouterConsumer)
	if err != nil {
		t.Fatal(err)
	}
	return cons
}
