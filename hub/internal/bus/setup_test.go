package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
)

// TestSetupDropsTheEventsWindow: a hub started on the data of an older one,
// whose events stream de-duplicated by Nats-Msg-Id over every account for
// 2 minutes, leaves it with no window at once: an id stored just before is
// stored again.
func TestSetupDropsTheEventsWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{Listen: "127.0.0.1:-1", DataDir: t.TempDir(), Prefix: "hookhub", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
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
	if ack, err := b.JS.PublishMsg(ctx, eventMsg(subject, "beta:evt_1")); err != nil || ack.Duplicate {
		t.Errorf("the id again after Setup: %v, duplicate %v; want it stored", err, ack != nil && ack.Duplicate)
	}
	if n := storedOn(t, b, subject); n != 2 {
		t.Errorf("stored on %s: %d, want 2", subject, n)
	}
}
