// Package routing turns events into delivery jobs: a durable consumer on the
// events stream checks each event, matches it against the webhooks of its
// account and writes one job per match to the deliveries stream, de-duplicated
// by <event id>:<webhook id>, before it acks the event. An event that cannot be
// accepted goes to the rejected-events stream with its reason.
package routing

import (
	"context"
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

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/metrics"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

// Snapshotter gives the current webhooks.
type Snapshotter interface{ Snapshot() *webhooks.Snapshot }

// Stats are the router's counters since start.
type Stats struct {
	Events   atomic.Int64 // events routed
	Jobs     atomic.Int64 // delivery jobs written
	Rejected atomic.Int64 // events rejected
}

// Router is the events-to-jobs worker.
type Router struct {
	bus      *bus.Bus
	webhooks Snapshotter
	schemas  *schemacheck.Set
	log      zerolog.Logger
	workers  int
	metrics  *metrics.Metrics
	Stats    Stats
}

// New returns a router. workers bounds the events routed at once; m may be nil.
func New(b *bus.Bus, ws Snapshotter, schemas *schemacheck.Set, log zerolog.Logger, workers int, m *metrics.Metrics) *Router {
	if workers <= 0 {
		workers = 128
	}
	return &Router{bus: b, webhooks: ws, schemas: schemas, log: log.With().Str("component", "router").Logger(), workers: workers, metrics: m}
}

// JobID is the id of the job delivering event eventID to webhook: the
// webhook-id header of every attempt, and the job's Nats-Msg-Id.
func JobID(eventID, webhook string) string { return eventID + ":" + webhook }

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
	sem := make(chan struct{}, r.workers)
	var wg sync.WaitGroup
	cc, err := cons.Consume(func(m jetstream.Msg) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer keepAlive(m)()
			r.handle(work, m)
		}()
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
	start := time.Now()
	raw := m.Data()
	ev, reason := r.check(m.Subject(), raw)
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
	if slices.ContainsFunc(matches, (*webhooks.Webhook).Ordered) {
		if _, err := r.bus.Sequencer(ctx); err != nil {
			r.log.Warn().Err(err).Str("event", ev.ID).Msg("ordered delivery unavailable; event will be routed again")
			_ = m.NakWithDelay(time.Second)
			return
		}
		matches = slices.DeleteFunc(matches, (*webhooks.Webhook).Ordered)
	}
	if len(matches) == 0 {
		r.Stats.Events.Add(1)
		r.metrics.Event(ev.Type, "routed")
		_ = m.Ack()
		return
	}
	n := r.bus.Names
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	wait := func(f jetstream.PubAckFuture) error {
		select {
		case <-f.Ok():
			return nil
		case err := <-f.Err():
			return err
		case <-timeout.C:
			return errors.New("timed out waiting for JetStream")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Keep the event for resends, and have it kept before any of its jobs
	// exists: the archive is another stream, stored on its own time, and a
	// resend asked for right after a delivery must find the event.
	f, pubErr := r.bus.JS.PublishMsgAsync(n.ArchiveMsg(ev.ID, raw))
	if pubErr == nil {
		pubErr = wait(f)
	}
	futures := make([]jetstream.PubAckFuture, 0, len(matches))
	for _, w := range matches {
		if pubErr != nil {
			break
		}
		job := nats.NewMsg(n.Delivery(ev.Account, w.ID))
		id := JobID(ev.ID, w.ID)
		job.Header.Set(jetstream.MsgIDHeader, id)
		job.Header.Set(bus.HeaderJob, id)
		job.Header.Set(bus.HeaderWebhook, w.ID)
		job.Header.Set(bus.HeaderEventID, ev.ID)
		job.Data = raw
		f, err := r.bus.JS.PublishMsgAsync(job)
		if err != nil {
			pubErr = err
			break
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		if pubErr != nil {
			break
		}
		pubErr = wait(f)
	}
	if pubErr != nil {
		// What was already written is de-duplicated when the event comes back.
		r.log.Warn().Err(pubErr).Str("event", ev.ID).Msg("writing delivery jobs failed; event will be routed again")
		_ = m.NakWithDelay(time.Second)
		return
	}
	r.Stats.Events.Add(1)
	r.Stats.Jobs.Add(int64(len(matches)))
	r.metrics.Event(ev.Type, "routed")
	_ = m.Ack()
}

// check parses and validates an event; reason says why it is rejected.
func (r *Router) check(subject string, raw []byte) (*event.Event, string) {
	ev, checked, err := parse(raw)
	if err != nil {
		return nil, err.Error()
	}
	if want := ev.NATSSubject(r.bus.Names.Prefix); subject != want {
		return nil, fmt.Sprintf("subject %q does not match the event's account and type (want %q)", subject, want)
	}
	if reason := checkData(r.schemas, ev, checked); reason != "" {
		return nil, reason
	}
	return ev, ""
}

// CheckData validates the event's data against its type's schema, when the
// catalog has the type, and says why it does not fit ("" when it does).
// Types outside the catalog are delivered unchecked. The API checks events
// posted to it with the same function.
func CheckData(schemas *schemacheck.Set, ev *event.Event) string {
	return checkData(schemas, ev, false)
}

// checkData is CheckData; checked says the event's data was validated
// as JSON when it was parsed (see parse).
func checkData(schemas *schemacheck.Set, ev *event.Event, checked bool) string {
	path := "events/" + ev.Type + ".schema.json"
	if schemas == nil || !schemas.Has(path) {
		return ""
	}
	data := ev.Data
	if len(data) == 0 {
		data = []byte("null")
	}
	doc, err := decodeData(data, checked && len(ev.Data) > 0)
	if err != nil {
		return "invalid event: data: " + err.Error()
	}
	issues, err := schemas.Validate(path, doc)
	if err != nil {
		return "invalid event: data: " + err.Error()
	}
	if len(issues) == 0 {
		return ""
	}
	msgs := make([]string, 0, len(issues))
	for _, is := range issues {
		p := "data"
		if is.Path != "" {
			p += "." + is.Path
		}
		msgs = append(msgs, p+": "+is.Msg)
	}
	return fmt.Sprintf("invalid event: does not match the schema of %s: %s", ev.Type, strings.Join(msgs, "; "))
}

func (r *Router) reject(ctx context.Context, m jetstream.Msg, reason string) {
	r.Stats.Rejected.Add(1)
	out := nats.NewMsg(r.bus.Names.Rejected())
	out.Header.Set(bus.HeaderReason, reason)
	out.Header.Set("Hookhub-Subject", m.Subject())
	if id := m.Headers().Get(jetstream.MsgIDHeader); id != "" {
		out.Header.Set(bus.HeaderEventID, id)
	}
	out.Data = m.Data()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := r.bus.JS.PublishMsg(pctx, out); err != nil {
		r.log.Warn().Err(err).Msg("storing a rejected event failed; will retry")
		_ = m.NakWithDelay(time.Second)
		return
	}
	r.log.Warn().Str("subject", m.Subject()).Str("reason", reason).Msg("event rejected")
	_ = m.Ack()
}
