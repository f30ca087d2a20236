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

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/metrics"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/hub/internal/workpool"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
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
	if account, ok := BatchAccount(r.bus.Names, m.Subject()); ok {
		r.handleBatch(ctx, m, account)
		return
	}
	start := time.Now()
	raw := m.Data()
	ev, reason := Check(r.bus.Names, r.types, m.Subject(), m.Headers().Get(jetstream.MsgIDHeader), raw)
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
		if _, err := r.bus.Sequencer(ctx); err != nil {
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
	f, pubErr := r.bus.JS.PublishMsgAsync(n.ArchiveMsg(ev.Account, ev.ID, raw))
	var archived *jetstream.PubAck
	if pubErr == nil {
		archived, pubErr = wait(f)
	}
	var held *heldEvent
	jobs, dups := matches, 0
	if pubErr == nil && !ordered && r.direct != nil {
		held, jobs = r.handOver(m, ev.Account, ev.ID, raw, matches, archived.Duplicate)
	}
	futures := make([]jetstream.PubAckFuture, 0, len(jobs))
	for _, w := range jobs {
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

// firstDelivery reports whether m comes to the router for the first time: a
// redelivery (after a crash or a failed write) finds its own jobs, which are
// no news.
func firstDelivery(m jetstream.Msg) bool {
	md, err := m.Metadata()
	return err == nil && md.NumDelivered == 1
}

// Check is the hub's acceptance of an event stored on subject with the
// Nats-Msg-Id msgID: its one reading (envelope.Parse), the subject that must
// match its account and type, the reserved operational types, the message id
// that must be scoped by account, its type (built in or declared for its
// account, unless undeclared types are accepted), and its data against its
// type's schema. It
// returns the event or why it is refused. The router and the ordered
// sequencer both take events through it.
func Check(names bus.Names, types *eventtypes.Registry, subject, msgID string, raw []byte) (*event.Event, string) {
	ev, checked, err := envelope.Parse(raw)
	if err != nil {
		return nil, err.Error()
	}
	if reason := checkSubject(names, subject, ev); reason != "" {
		return nil, reason
	}
	if want := publish.MsgID(ev.Account, ev.ID); msgID != "" && msgID != want {
		// The events stream de-duplicates by this header over all
		// accounts: an id not scoped by the account would make another
		// account's event of the same id a duplicate.
		return nil, fmt.Sprintf("Nats-Msg-Id %q must be <account>:<id>, here %q", clip(msgID), want)
	}
	if reason := checkData(types, ev, checked); reason != "" {
		return nil, reason
	}
	return ev, ""
}

// checkSubject: an event is stored on <prefix>.events.<account>.<type>, and
// a type under hookhub. is the hub's own, accepted only on the subject the
// hub publishes its operational events on (bus.Names.Operational), which no
// account's publish permission on <prefix>.events.<account>.> covers.
func checkSubject(names bus.Names, subject string, ev *event.Event) string {
	if strings.HasPrefix(ev.Type, webhooks.OperationalPrefix) {
		if subject != names.Operational(ev.Account, ev.Type) {
			return fmt.Sprintf("invalid event: type: %q: types under %q are reserved for the hub's own operational events", clip(ev.Type), webhooks.OperationalPrefix)
		}
		return ""
	}
	if want := ev.NATSSubject(names.Prefix); subject != want {
		return fmt.Sprintf("subject %q does not match the event's account and type (want %q)", clip(subject), want)
	}
	return ""
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

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// CheckData checks the event's type and validates its data against the
// type's schema, and says why the event is refused ("" when it is not). A
// type neither built in nor declared for the event's account is refused,
// unless the hub accepts undeclared types: then it is delivered unchecked.
// The API checks events posted to it with the same function.
func CheckData(types *eventtypes.Registry, ev *event.Event) string {
	return checkData(types, ev, false)
}

// checkData is CheckData; checked says the event's data was validated
// as JSON when it was parsed (see parse).
func checkData(types *eventtypes.Registry, ev *event.Event, checked bool) string {
	if types == nil {
		return ""
	}
	if _, known := types.Lookup(ev.Account, ev.Type); !known {
		if types.AcceptUndeclared {
			return ""
		}
		return types.Undeclared(ev.Account, ev.Type)
	}
	data := ev.Data
	if len(data) == 0 {
		data = []byte("null")
	}
	doc, err := decodeData(data, checked && len(ev.Data) > 0)
	if err != nil {
		return "invalid event: data: " + err.Error()
	}
	issues, _, err := types.Validate(ev.Account, ev.Type, doc)
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
	msgID := m.Headers().Get(jetstream.MsgIDHeader)
	if msgID != "" {
		out.Header.Set(bus.HeaderEventID, msgID)
	}
	account := r.bus.Names.EventAccount(m.Subject(), event.ValidAccount)
	if account != "" {
		out.Header.Set(bus.HeaderAccount, account)
	}
	out.Data = m.Data()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := r.bus.JS.PublishMsg(pctx, out); err != nil {
		r.log.Warn().Err(err).Msg("storing a rejected event failed; will retry")
		_ = m.NakWithDelay(time.Second)
		return
	}
	r.log.Warn().Str("event", printable(clip(RejectedEventID(msgID, m.Data())))).Str("account", account).
		Str("subject", printable(clip(m.Subject()))).Str("reason", reason).Msg("event rejected")
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
