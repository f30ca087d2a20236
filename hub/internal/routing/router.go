// Package routing turns events into delivery jobs: a durable consumer on the
// events stream checks each event, matches it against the webhooks of its
// account and writes one job per match to the deliveries stream, de-duplicated
// by <event id>:<webhook id>, before it acks the event. An event that cannot be
// accepted goes to the rejected-events stream with its reason.
package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/metrics"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/hub/internal/workpool"
	"github.com/hookhub/hookhub/sdk/event"
)

// Snapshotter gives the current webhooks.
type Snapshotter interface{ Snapshot() *webhooks.Snapshot }

// Stats are the router's counters since start.
type Stats struct {
	Events   atomic.Int64 // events routed
	Jobs     atomic.Int64 // delivery jobs written
	Rejected atomic.Int64 // events rejected
	Direct   atomic.Int64 // first attempts handed to Direct instead of a job
}

// Router is the events-to-jobs worker.
type Router struct {
	bus      *bus.Bus
	webhooks Snapshotter
	types    *eventtypes.Registry
	log      zerolog.Logger
	workers  int
	metrics  *metrics.Metrics
	Stats    Stats

	direct      Direct         // first attempts without a job (nil: jobs only); see direct.go
	directSlots chan struct{}  // bounds the events held for their first attempts
	held        sync.WaitGroup // events held for their first attempts
}

// New returns a router. workers bounds the events routed at once; m may be nil.
// types checks each event's type and data (nil: nothing is checked).
func New(b *bus.Bus, ws Snapshotter, types *eventtypes.Registry, log zerolog.Logger, workers int, m *metrics.Metrics) *Router {
	if workers <= 0 {
		workers = 128
	}
	return &Router{bus: b, webhooks: ws, types: types, log: log.With().Str("component", "router").Logger(), workers: workers, metrics: m}
}

// Run routes events until ctx is done, then finishes the events in hand.
func (r *Router) Run(ctx context.Context) error {
	n := r.bus.Names
	cons, err := r.bus.JS.Consumer(ctx, n.EventsStream, n.RouterConsumer)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return fmt.Errorf("router: consumer: %w", err)
	}
	work := context.WithoutCancel(ctx)
	// Reused workers, not a goroutine per event: a worker's stack has grown
	// to what an event's checks need (schema validation recurses deep).
	pool := workpool.New(r.workers, 10*time.Second)
	var wg sync.WaitGroup
	cc, err := cons.Consume(func(m jetstream.Msg) {
		wg.Add(1)
		pool.Go(func() {
			defer wg.Done()
			defer keepAlive(m)()
			r.handle(work, m)
		})
	}, jetstream.PullMaxMessages(500), jetstream.PullExpiry(5*time.Second), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrNoHeartbeat) {
			r.log.Debug().Err(err).Msg("consume")
		}
	}))
	if err != nil {
		return fmt.Errorf("router: consume: %w", err)
	}
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	wg.Wait()
	r.held.Wait() // the engine settles or cancels their attempts as it stops
	return nil
}

// keepAlive tells JetStream every bus.KeepAliveEvery that m is in hand,
// until the returned func is called: an event whose jobs take long to write
// stays with this hub, within the consumer's short ack wait.
func keepAlive(m jetstream.Msg) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock()
	t = time.AfterFunc(bus.KeepAliveEvery, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			_ = m.InProgress()
			t.Reset(bus.KeepAliveEvery)
		}
	})
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}

func (r *Router) handle(ctx context.Context, m jetstream.Msg) {
	if account, ok := accept.BatchAccount(r.bus.Names, m.Subject()); ok {
		r.handleBatch(ctx, m, account)
		return
	}
	start := time.Now()
	raw := m.Data()
	msgID := m.Headers().Get(jetstream.MsgIDHeader)
	ev, reason := accept.Check(r.bus.Names, r.types, m.Subject(), msgID, raw)
	if reason != "" {
		r.metrics.Event("invalid", "rejected")
		r.reject(ctx, m, reason)
		return
	}
	defer func() { r.metrics.Routed(time.Since(start)) }()
	// Ordered webhooks get their events from the delivery engine's
	// sequencer, which reads the events stream in order; it exists before
	// the first event is left to it.
	matches := r.webhooks.Snapshot().Match(ev, nil)
	outcome := "unmatched" // no webhook wants it: not counted as routed
	if len(matches) > 0 {
		outcome = "routed"
	}
	ordered := slices.ContainsFunc(matches, (*webhooks.Webhook).Ordered)
	if ordered {
		if _, err := r.bus.Sequencer(ctx, ev.Account); err != nil {
			r.log.Warn().Err(err).Str("event", ev.ID).Msg("ordered delivery unavailable; event will be routed again")
			_ = m.NakWithDelay(time.Second)
			return
		}
		matches = slices.DeleteFunc(matches, (*webhooks.Webhook).Ordered)
	}
	if len(matches) == 0 {
		r.Stats.Events.Add(1)
		r.metrics.Event(ev.Type, outcome)
		_ = m.Ack()
		return
	}
	n := r.bus.Names
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	wait := func(f jetstream.PubAckFuture) (*jetstream.PubAck, error) {
		select {
		case ack := <-f.Ok():
			return ack, nil
		case err := <-f.Err():
			return nil, err
		case <-timeout.C:
			return nil, errors.New("timed out waiting for JetStream")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// Keep the event for resends, and have it kept before any of its jobs
	// exists: the archive is another stream, stored on its own time, and a
	// resend asked for right after a delivery must find the event.
	var seq uint64 // the event's place in the events stream
	md, err := m.Metadata()
	if err == nil {
		seq = md.Sequence.Stream
	}
	f, pubErr := r.bus.JS.PublishMsgAsync(n.ArchiveMsg(ev.Account, ev.ID, raw, seq, msgID))
	var archived *jetstream.PubAck
	if pubErr == nil {
		archived, pubErr = wait(f)
	}
	if pubErr == nil && archived.Duplicate {
		switch copied, err := r.bus.CopyOf(ctx, archived.Sequence, seq, msgID); {
		case err != nil:
			pubErr = err
		case copied == bus.Resent: // the publisher sent it again: it has its deliveries
			r.metrics.Event(ev.Type, "duplicate")
			_ = m.Ack()
			return
		case copied == bus.Republished:
			r.metrics.Event(ev.Type, "rejected")
			r.reject(ctx, m, republishedReason(ev))
			return
		}
	}
	var held *heldEvent
	jobs, dups := matches, 0
	if pubErr == nil && !ordered && r.direct != nil {
		held, jobs = r.handOver(m, md, ev.Account, ev.ID, raw, matches, archived.Duplicate)
	}
	futures := make([]jetstream.PubAckFuture, 0, len(jobs))
	for _, w := range jobs {
		if pubErr != nil {
			break
		}
		f, err := r.bus.JS.PublishMsgAsync(jobMsg(n, ev, w.ID, raw))
		if err != nil {
			pubErr = err
			break
		}
		futures = append(futures, f)
	}
	written := len(jobs)
	for _, f := range futures {
		if pubErr != nil {
			break
		}
		var ack *jetstream.PubAck
		if ack, pubErr = wait(f); ack != nil && ack.Duplicate {
			dups++
			written--
		}
	}
	if pubErr != nil {
		// What was already written is de-duplicated when the event comes back.
		r.log.Warn().Err(pubErr).Str("event", ev.ID).Msg("writing delivery jobs failed; event will be routed again")
		if held != nil {
			held.done(pubErr) // handed back once its first attempts are settled
			return
		}
		_ = m.NakWithDelay(time.Second)
		return
	}
	if dups > 0 && firstDelivery(m) {
		// Another message with this account's event id was routed within
		// the de-duplication window (the same event published again under
		// another Nats-Msg-Id, or none): its jobs exist, and these were
		// not written again. Said, not silently dropped.
		reason := fmt.Sprintf("duplicate: event %q of account %q was already routed to %d of its %d webhooks within the de-duplication window (%s); not delivered again to them",
			ev.ID, ev.Account, dups, len(matches), bus.DedupeWindow)
		if dups == len(matches) && held == nil {
			r.metrics.Event(ev.Type, "rejected")
			r.reject(ctx, m, reason)
			return
		}
		r.log.Warn().Str("event", ev.ID).Str("account", ev.Account).Msg(reason)
	}
	r.Stats.Events.Add(1)
	r.Stats.Jobs.Add(int64(written))
	r.metrics.Event(ev.Type, "routed")
	if held != nil {
		held.done(nil) // acked once its first attempts are settled
		return
	}
	_ = m.Ack()
}

// republishedReason is the rejection of a copy of ev that bus.CopyOf found
// republished.
func republishedReason(ev *event.Event) string {
	return fmt.Sprintf("duplicate: event %q of account %q was already routed within the de-duplication window (%s): it was published again without its Nats-Msg-Id; not delivered again",
		ev.ID, ev.Account, bus.DedupeWindow)
}

// jobMsg is the delivery job of ev to webhook, de-duplicated by its JobID.
func jobMsg(n bus.Names, ev *event.Event, webhook string, raw []byte) *nats.Msg {
	job := nats.NewMsg(n.Delivery(ev.Account, webhook))
	id := accept.JobID(ev.ID, webhook)
	job.Header.Set(jetstream.MsgIDHeader, id)
	job.Header.Set(bus.HeaderJob, id)
	job.Header.Set(bus.HeaderWebhook, webhook)
	job.Header.Set(bus.HeaderEventID, ev.ID)
	job.Data = raw
	return job
}

// firstDelivery reports whether m comes to the router for the first time: a
// redelivery (after a crash or a failed write) finds its own jobs, which are
// no news.
func firstDelivery(m jetstream.Msg) bool {
	md, err := m.Metadata()
	return err == nil && md.NumDelivered == 1
}

// printable replaces control characters, so that a value from a publisher
// cannot start a forged line in a console log.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return '?'
		}
		return r
	}, s)
}

func (r *Router) reject(ctx context.Context, m jetstream.Msg, reason string) {
	r.Stats.Rejected.Add(1)
	account := r.bus.Names.EventAccount(m.Subject(), event.ValidAccount)
	out := r.bus.Names.RejectedMsg(m.Subject(), account, reason, m.Data())
	msgID := m.Headers().Get(jetstream.MsgIDHeader)
	if msgID != "" {
		out.Header.Set(bus.HeaderEventID, msgID)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := r.bus.JS.PublishMsg(pctx, out); err != nil {
		r.log.Warn().Err(err).Msg("storing a rejected event failed; will retry")
		_ = m.NakWithDelay(time.Second)
		return
	}
	r.log.Warn().Str("event", printable(accept.Clip(RejectedEventID(msgID, m.Data())))).Str("account", account).
		Str("subject", printable(accept.Clip(m.Subject()))).Str("reason", reason).Msg("event rejected")
	_ = m.Ack()
}

// RejectedEventID is the id of a rejected event as far as it can be read:
// its "id" member when the body is a JSON object with a string id, else the
// id part of its Nats-Msg-Id (<account>:<id>), else "".
func RejectedEventID(msgID string, raw []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &v) == nil && v.ID != "" {
		return v.ID
	}
	if _, id, ok := strings.Cut(msgID, ":"); ok {
		return id
	}
	return msgID
}
