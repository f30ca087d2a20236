package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
)

// openBus opens a hub's bus on an embedded server, with no streams yet.
func openBus(t *testing.T, ctx context.Context) *bus.Bus {
	t.Helper()
	b, err := bus.Open(ctx, bus.Options{Listen: "127.0.0.1:-1", DataDir: t.TempDir(), Prefix: "hookhub", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// TestSetupDropsTheEventsWindow: a hub started on the data of an older one,
// whose events stream de-duplicated by Nats-Msg-Id over every account for
// 2 minutes, leaves it with no window: an id published twice after it is
// stored twice.
func TestSetupDropsTheEventsWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := openBus(t, ctx)
	n := b.Names
	if _, err := b.JS.CreateStream(ctx, jetstream.StreamConfig{Name: n.EventsStream, Subjects: []string{n.EventsAll(), n.EventsKeeper()},
		Retention: jetstream.InterestPolicy, Storage: jetstream.FileStorage, Duplicates: bus.DedupeWindow}); err != nil {
		t.Fatal(err)
	}
	const subject = "hookhub.events.beta.contact.updated"
	if _, err := b.JS.CreateOrUpdateConsumer(ctx, n.EventsStream, jetstream.ConsumerConfig{Durable: n.RouterConsumer,
		AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: n.EventsAll()}); err != nil {
		t.Fatal(err) // interest, so that what is published stays
	}
	if _, err := b.JS.PublishMsg(ctx, eventMsg(subject, "beta:evt_1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := b.JS.Stream(ctx, n.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if w := st.CachedInfo().Config.Duplicates; w != 0 {
		t.Errorf("events stream de-duplication window %v after Setup, want none", w)
	}
	// An id the old window held may still be in it for up to its 2 minutes
	// (the server forgets them on a timer that can fire before it takes
	// the new config); one published after Setup is never held.
	for range 2 {
		if ack, err := b.JS.PublishMsg(ctx, eventMsg(subject, "beta:evt_2")); err != nil || ack.Duplicate {
			t.Fatalf("an id published twice after Setup: %v, duplicate %v; want both stored", err, ack != nil && ack.Duplicate)
		}
	}
	if n := storedOn(t, b, subject); n != 3 {
		t.Errorf("stored on %s: %d, want 3", subject, n)
	}
}

// TestSetupRewritesNoStream: a hub that starts against streams already set
// up as it would set them sends JetStream no stream update: none is
// proposed per restart in a cluster, and none races another hub's consumer
// creation (a data race inside nats-server 2.15 that failed CI under -race).
func TestSetupRewritesNoStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := openBus(t, ctx)
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	updates, err := b.NC.SubscribeSync("$JS.API.STREAM.UPDATE.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := updates.NextMsg(200 * time.Millisecond); err == nil {
		t.Errorf("the second Setup updated %s, whose config it had not changed", m.Subject)
	}
}

// TestSequencerTakesOverFromTheSharedOne: a hub started where older hubs
// ran one sequencer consumer for every account starts an account's own
// where that one had got to, not at the router's floor, so no ordered
// delivery it had not settled is skipped; then deletes the old one, which
// would keep every event in the stream.
func TestSequencerTakesOverFromTheSharedOne(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := openBus(t, ctx)
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	n := b.Names
	shared, err := b.JS.CreateConsumer(ctx, n.EventsStream, jetstream.ConsumerConfig{Durable: n.SequencerConsumer,
		AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: n.EventsAll()})
	if err != nil {
		t.Fatal(err)
	}
	const total = 1500
	for i := range total {
		if _, err := b.JS.PublishAsync("hookhub.events.acme.contact.updated", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			<-b.JS.PublishAsyncComplete()
		}
	}
	<-b.JS.PublishAsyncComplete()
	// The router has routed them all; the shared sequencer settled 2.
	ack := func(c jetstream.Consumer, count int) {
		t.Helper()
		for count > 0 {
			batch, err := c.Fetch(min(count, 500), jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				if err := m.DoubleAck(ctx); err != nil {
					t.Fatal(err)
				}
				count--
			}
		}
	}
	router, err := b.JS.Consumer(ctx, n.EventsStream, n.RouterConsumer)
	if err != nil {
		t.Fatal(err)
	}
	ack(router, total)
	ack(shared, 2)
	if err := b.DropSharedSequencer(ctx, []string{"acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.JS.Consumer(ctx, n.EventsStream, n.SequencerConsumer); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Errorf("the shared sequencer consumer: %v, want it deleted", err)
	}
	own, err := b.Sequencer(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := own.Fetch(1, jetstream.FetchMaxWait(5*time.Second), jetstream.FetchPriorityGroup(bus.SequencerGroup))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		got++
		if md, _ := m.Metadata(); md.Sequence.Stream != 3 {
			t.Errorf("acme's sequencer starts at %d, want 3 (the shared one had settled 2; the router all %d)", md.Sequence.Stream, total)
		}
	}
	if got != 1 {
		t.Errorf("acme's sequencer gave %d events (%v), want 1", got, batch.Error())
	}
	if accounts, err := b.SequencerAccounts(ctx); err != nil || len(accounts) != 1 || accounts[0] != "acme" {
		t.Errorf("sequencer accounts %v, %v; want acme", accounts, err)
	}
}

// TestSequencerNames: each account's consumer name gives the account back,
// accounts whose ids differ only in case get names that differ otherwise
// too, and no other consumer is taken for one.
func TestSequencerNames(t *testing.T) {
	n := bus.NewNames("hookhub")
	for _, account := range []string{"acme", "Acme", "a_b", "x-1"} {
		if got, ok := n.SequencerAccount(n.Sequencer(account)); !ok || got != account {
			t.Errorf("%s: read back %q, %v", account, got, ok)
		}
	}
	if strings.EqualFold(n.Sequencer("acme"), n.Sequencer("Acme")) {
		t.Errorf("%s and %s differ only in case", n.Sequencer("acme"), n.Sequencer("Acme"))
	}
	for _, other := range []string{"sequencer", "sequencer_acme", "router", "sequencer_acme_00000000", n.Sequencer(""), n.Sequencer("a.b")} {
		if a, ok := n.SequencerAccount(other); ok {
			t.Errorf("%s taken for account %q's sequencer", other, a)
		}
	}
}
