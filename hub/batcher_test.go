// The tests of sdk/publish's Batcher live here, in the hub's module, so that
// sdk/publish needs no NATS server among its own requirements.

package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// startJetStream runs an in-process JetStream with a stream on the events
// subjects, as a hub creates it.
func batcherJetStream(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"hookhub.events.>"}})
	if err != nil {
		t.Fatal(err)
	}
	return js, st
}

// stored reads the batches stored: each one's subject and event ids.
func storedBatches(t *testing.T, st jetstream.Stream) (subjects []string, batches [][]string) {
	t.Helper()
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if ct := m.Header.Get("Content-Type"); ct != event.BatchContentType {
			t.Errorf("batch %d: Content-Type %q", seq, ct)
		}
		var evs []event.Event
		if err := json.Unmarshal(m.Data, &evs); err != nil {
			t.Fatalf("batch %d is not a JSON array of events: %v", seq, err)
		}
		var ids []string
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		subjects = append(subjects, m.Subject)
		batches = append(batches, ids)
	}
	return subjects, batches
}

func batcherEvent(account string, i int) *event.Event {
	return &event.Event{ID: fmt.Sprintf("evt_%d", i), Source: "test", Type: "contact.updated", Account: account, Data: json.RawMessage(`{"n":1}`)}
}

// TestBatcherSizeFlush: a batch is sent as it reaches MaxEvents, or before
// an event would take it past MaxBytes, without waiting for its linger;
// Close sends the rest. Each account's events go in its own batches, on its
// own batch subject.
func TestBatcherSizeFlush(t *testing.T) {
	js, st := batcherJetStream(t)
	b := publish.New(js, "hookhub").NewBatcher(publish.BatchOptions{MaxEvents: 10, Linger: time.Hour})
	for i := range 25 {
		if err := b.Add(t.Context(), batcherEvent("acme", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Add(t.Context(), batcherEvent("globex", 100)); err != nil {
		t.Fatal(err)
	}
	if _, got := storedBatches(t, st); len(got) != 2 || len(got[0]) != 10 || len(got[1]) != 10 || got[1][0] != "evt_10" {
		t.Fatalf("before Close: %v, want two batches of 10", got)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	subjects, got := storedBatches(t, st)
	if len(got) != 4 {
		t.Fatalf("after Close: %v, want 4 batches", got)
	}
	want := map[string]string{"evt_20": "hookhub.events.acme.$batch", "evt_100": "hookhub.events.globex.$batch"}
	for i := 2; i < 4; i++ {
		if subjects[i] != want[got[i][0]] {
			t.Errorf("batch %v on %s, want %s", got[i], subjects[i], want[got[i][0]])
		}
	}
	if err := b.Add(t.Context(), batcherEvent("acme", 1)); !errors.Is(err, publish.ErrClosed) {
		t.Errorf("Add after Close: %v, want ErrClosed", err)
	}

	// By bytes: events of ~300 bytes in batches of at most 1,000.
	js2, st2 := batcherJetStream(t)
	b2 := publish.New(js2, "hookhub").NewBatcher(publish.BatchOptions{MaxBytes: 1000, Linger: time.Hour})
	for i := range 10 {
		e := batcherEvent("acme", i)
		e.Data = json.RawMessage(`{"pad":"` + strings.Repeat("x", 150) + `"}`)
		if err := b2.Add(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := b2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, _ := st2.Info(t.Context())
	total := 0
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, _ := st2.GetMsg(t.Context(), seq)
		if len(m.Data) > 1000 {
			t.Errorf("batch %d is %d bytes, over MaxBytes 1000", seq, len(m.Data))
		}
		var evs []json.RawMessage
		_ = json.Unmarshal(m.Data, &evs)
		total += len(evs)
	}
	if total != 10 || info.State.Msgs < 4 {
		t.Errorf("%d events in %d batches, want 10 in several", total, info.State.Msgs)
	}
}

// TestBatcherLingerFlush: a batch that does not fill is sent once its
// first event has waited Linger, and OnBatch hears of it.
func TestBatcherLingerFlush(t *testing.T) {
	js, st := batcherJetStream(t)
	var mu sync.Mutex
	var results []publish.BatchResult
	const linger = 100 * time.Millisecond
	b := publish.New(js, "hookhub").NewBatcher(publish.BatchOptions{Linger: linger, OnBatch: func(r publish.BatchResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}})
	defer b.Close(context.Background())
	start := time.Now()
	for i := range 3 {
		if err := b.Add(t.Context(), batcherEvent("acme", i)); err != nil {
			t.Fatal(err)
		}
	}
	var sentAt time.Time
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(results)
		mu.Unlock()
		if n > 0 {
			sentAt = time.Now()
			break
		}
	}
	if sentAt.IsZero() {
		t.Fatal("the lingering batch was not sent within 5s")
	}
	if waited := sentAt.Sub(start); waited < linger {
		t.Errorf("sent after %s, before its linger of %s", waited, linger)
	}
	if r := results[0]; r.Err != nil || r.Ack == nil || fmt.Sprint(r.IDs) != "[evt_0 evt_1 evt_2]" {
		t.Errorf("OnBatch: %+v", r)
	}
	if _, got := storedBatches(t, st); len(got) != 1 || len(got[0]) != 3 {
		t.Errorf("stored %v, want one batch of 3", got)
	}
}

// TestBatcherErrors: a bad event is refused by Add alone, saying why; a
// batch that cannot be stored is a *BatchError naming its events, from the
// Add that sent it, or from Flush for a lingering one.
func TestBatcherErrors(t *testing.T) {
	js, _ := batcherJetStream(t)
	b := publish.New(js, "nostream").NewBatcher(publish.BatchOptions{MaxEvents: 2, Linger: 20 * time.Millisecond, Timeout: time.Second})
	bad := batcherEvent("acme", 1)
	bad.Type = "Not A Type"
	if err := b.Add(t.Context(), bad); err == nil || !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Add of a bad type: %v, want an invalid-event error", err)
	}
	_ = b.Add(t.Context(), batcherEvent("acme", 1))
	err := b.Add(t.Context(), batcherEvent("acme", 2))
	var be *publish.BatchError
	if !errors.As(err, &be) || fmt.Sprint(be.IDs) != "[evt_1 evt_2]" || be.Account != "acme" {
		t.Fatalf("a full batch with no stream to store it: %v, want a BatchError of evt_1 and evt_2", err)
	}
	_ = b.Add(t.Context(), batcherEvent("acme", 3))
	time.Sleep(200 * time.Millisecond) // lingers, is sent, fails
	if err := b.Flush(t.Context()); !errors.As(err, &be) || fmt.Sprint(be.IDs) != "[evt_3]" {
		t.Errorf("Flush after a lingering batch failed: %v, want its BatchError", err)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Errorf("Close with nothing left: %v", err)
	}
}
