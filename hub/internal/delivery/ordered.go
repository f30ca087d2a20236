package delivery

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

// Ordered delivery.
//
// The router leaves ordered webhooks out. The sequencer reads the events
// stream itself, in order, through a pinned consumer (one hub at a time), and
// puts each event's job for each ordered webhook at the tail of its key's
// queue. A key runs one job at a time: the next starts when the one before
// is delivered, skipped or dead-lettered. A failed attempt is retried in
// place, by the webhook's schedule, holding its key back and no other. The
// event stays unacknowledged (and kept alive with in-progress acks) until
// every ordered job made from it is settled, so a crash hands it, and what
// follows it, to the next hub in the same order.

// Snapshots gives the current webhooks; webhooks.Registry is one.
type Snapshots interface {
	Snapshot() *webhooks.Snapshot
}

// sequencer holds the ordered jobs of this process.
type sequencer struct {
	e  *Engine
	mu sync.Mutex
	// held are the events in hand, by stream sequence.
	held map[uint64]*heldEvent
	// keys are the queues of the keys with a job running, waiting for its
	// retry, or queued, by webhook and key.
	keys    map[string]*keyQueue
	slots   map[string]chan struct{} // per webhook: its jobs running at once
	stopped bool
}

// heldEvent is an event in hand and how many of its jobs are not settled.
type heldEvent struct {
	m    jetstream.Msg
	left int
}

type keyQueue struct {
	units []*unit // units[0] runs or waits for its retry
	timer *time.Timer
}

func newSequencer(e *Engine) *sequencer {
	return &sequencer{e: e, held: map[uint64]*heldEvent{}, keys: map[string]*keyQueue{}, slots: map[string]chan struct{}{}}
}

// runSequencer consumes each account's sequencer consumer until ctx is
// done: those of the accounts with an ordered webhook, as they appear, and
// every one that exists (an account whose ordered webhooks are gone, or
// known to another hub only, still has events held for its consumer, which
// only reading acks), looked up every 30 s. A hub with neither pays a look
// at the snapshot twice a second. It also deletes the one sequencer
// consumer of older hubs, once the accounts have their own.
func (e *Engine) runSequencer(ctx context.Context) {
	if e.o.Snapshots == nil {
		return
	}
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	consuming := map[string]jetstream.ConsumeContext{}
	defer func() {
		for _, cc := range consuming {
			cc.Stop()
			<-cc.Closed()
		}
	}()
	var (
		existing []string // the consumers there were at the last look
		snap     *webhooks.Snapshot
		ordered  []string // the accounts with an ordered webhook in snap
		nextLook time.Time
		retryAt  = map[string]time.Time{} // an account whose consumer failed
	)
	// forget drops account's consume, which ended: its consumer is looked
	// up (or made) again.
	forget := func(account string) {
		delete(consuming, account)
		e.o.Bus.ForgetSequencer(account)
	}
	for {
		if s := e.o.Snapshots.Snapshot(); s != snap {
			snap, ordered = s, orderedAccounts(s)
		}
		if time.Now().After(nextLook) {
			nextLook = time.Now().Add(30 * time.Second) // another hub's, and an older hub's again
			if found, err := e.o.Bus.SequencerAccounts(ctx); err == nil {
				existing = found
				// A consumer deleted while this hub could not hear of it
				// leaves a consume that pulls in vain and never ends.
				for account, cc := range consuming {
					if !slices.Contains(found, account) {
						cc.Stop()
						<-cc.Closed()
						forget(account)
					}
				}
			} else if ctx.Err() == nil {
				e.log.Warn().Err(err).Msg("ordered delivery: listing the consumers; trying again in 30 s")
			}
			if err := e.o.Bus.DropSharedSequencer(ctx, ordered); err != nil && ctx.Err() == nil {
				e.log.Warn().Err(err).Msg("ordered delivery: the older hubs' sequencer consumer; trying again in 30 s")
			}
		}
		for account, cc := range consuming {
			select {
			case <-cc.Closed(): // ended on its own (deleted?)
				forget(account)
			default:
			}
		}
		for _, account := range slices.Concat(existing, ordered) {
			if consuming[account] != nil || time.Now().Before(retryAt[account]) {
				continue
			}
			cc, err := e.consumeOrdered(ctx, account)
			if err != nil {
				retryAt[account] = time.Now().Add(2 * time.Second)
				if ctx.Err() == nil {
					e.log.Warn().Err(err).Str("account", account).Msg("ordered delivery: consumer; trying again")
				}
				continue
			}
			delete(retryAt, account)
			consuming[account] = cc
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// consumeOrdered reads account's sequencer consumer into dispatch.
func (e *Engine) consumeOrdered(ctx context.Context, account string) (jetstream.ConsumeContext, error) {
	cons, err := e.o.Bus.Sequencer(ctx, account)
	if err != nil {
		return nil, err
	}
	return cons.Consume(e.seq.dispatch, jetstream.PullMaxMessages(200), jetstream.PullExpiry(5*time.Second),
		jetstream.PullPriorityGroup(bus.SequencerGroup),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) {
				e.log.Debug().Err(err).Str("account", account).Msg("consume ordered")
			}
		}))
}

// orderedAccounts are the accounts with an ordered webhook in s.
func orderedAccounts(s *webhooks.Snapshot) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range s.All() {
		if w.Ordered() && !seen[w.Account] {
			seen[w.Account] = true
			out = append(out, w.Account)
		}
	}
	return out
}

// dispatch takes one event from the sequencer consumer and queues a job per
// ordered webhook it matches.
func (s *sequencer) dispatch(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Nak()
		return
	}
	type orderedEvent struct {
		ev      *event.Event
		raw     []byte
		ordered []*webhooks.Webhook
	}
	var events []orderedEvent
	snap := s.e.o.Snapshots.Snapshot()
	jobs := 0
	for _, in := range s.accepted(m) {
		var ordered []*webhooks.Webhook
		for _, w := range snap.Match(in.ev, nil) {
			if w.Ordered() {
				ordered = append(ordered, w)
			}
		}
		if len(ordered) > 0 {
			events = append(events, orderedEvent{in.ev, in.raw, ordered})
			jobs += len(ordered)
		}
	}
	if jobs == 0 {
		_ = m.Ack()
		return
	}
	// Keep each event for resends before any delivery of it, as the router
	// does (the same message id: whichever comes second is a duplicate). A
	// duplicate written from another message of the events stream is
	// another copy of the event within the archive's de-duplication window:
	// the publisher's resend (the same Nats-Msg-Id), or the event published
	// again (without its Nats-Msg-Id, or in another batch). The ordered
	// webhooks had the first and do not get it again. (An id twice in one
	// batch is taken once by accepted.)
	seq, msgID := md.Sequence.Stream, m.Headers().Get(jetstream.MsgIDHeader)
	kept := events[:0]
	for _, oe := range events {
		copied, err := s.archive(oe.ev, oe.raw, seq, msgID)
		if err != nil {
			s.e.log.Warn().Err(err).Str("event", oe.ev.ID).Msg("archiving the event failed; it will come again")
			_ = m.NakWithDelay(time.Second)
			return
		}
		if copied != bus.Own {
			if copied == bus.Republished {
				s.e.log.Warn().Str("event", oe.ev.ID).Str("account", oe.ev.Account).
					Msg("event published again within the de-duplication window; not delivered again to its ordered webhooks")
			}
			jobs -= len(oe.ordered)
			continue
		}
		kept = append(kept, oe)
	}
	events = kept
	if jobs == 0 {
		_ = m.Ack()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		_ = m.Nak()
		return
	}
	if h := s.held[seq]; h != nil {
		h.m = m // delivered again while in hand: keep the newer handle
		return
	}
	h := &heldEvent{m: m, left: jobs}
	s.held[seq] = h
	for _, oe := range events {
		for _, w := range oe.ordered {
			s.queue(h, seq, md.Timestamp, oe.ev, oe.raw, w)
		}
	}
}

// archive keeps ev (raw, from message seq of the events stream, published
// with Nats-Msg-Id msgID) in the archive, and reports whose copy of it was
// there first (bus.CopyOf).
func (s *sequencer) archive(ev *event.Event, raw []byte, seq uint64, msgID string) (bus.Copy, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := s.e.o.Bus.JS.PublishMsg(ctx, s.e.o.Bus.Names.ArchiveMsg(ev.Account, ev.ID, raw, seq, msgID))
	if err != nil || !ack.Duplicate {
		return bus.Own, err
	}
	return s.e.o.Bus.CopyOf(ctx, ack.Sequence, seq, msgID)
}

// queue puts the job of ev for ordered webhook w, from held event h, at the
// tail of its key's queue. s.mu is held.
func (s *sequencer) queue(h *heldEvent, seq uint64, stored time.Time, ev *event.Event, raw []byte, w *webhooks.Webhook) {
	id := accept.JobID(ev.ID, w.ID)
	u := &unit{
		items:   []item{{Job: id, EventID: ev.ID, Raw: raw, Stored: stored}},
		id:      id,
		webhook: w.ID,
		subject: s.e.o.Bus.Names.Delivery(ev.Account, w.ID),
		attempt: 1,
		seq:     seq,
		ordered: h,
	}
	k := w.ID + "\x00" + w.OrderKey(ev)
	q := s.keys[k]
	if q == nil {
		q = &keyQueue{}
		s.keys[k] = q
	}
	q.units = append(q.units, u)
	if len(q.units) == 1 {
		s.start(k, q)
	}
}

// acceptedEvent is an event of m the router accepts, with its bytes.
type acceptedEvent struct {
	ev  *event.Event
	raw []byte
}

// accepted are the events of m the router accepts, by the router's own
// checks (an event it rejects, with its reason, reaches no ordered webhook
// either): m itself, or each good event of a batch, in the batch's order.
func (s *sequencer) accepted(m jetstream.Msg) []acceptedEvent {
	names, types := s.e.o.Bus.Names, s.e.o.Types
	if account, ok := accept.BatchAccount(names, m.Subject()); ok {
		items, reason := accept.SplitBatch(m.Data())
		if reason != "" {
			return nil
		}
		var out []acceptedEvent
		seen := map[string]bool{} // an id twice in one batch is delivered once
		for _, raw := range items {
			if ev, reason := accept.CheckBatched(types, account, raw); reason == "" && !seen[ev.ID] {
				seen[ev.ID] = true
				out = append(out, acceptedEvent{ev, raw})
			}
		}
		return out
	}
	ev, reason := accept.Check(names, types, m.Subject(), m.Headers().Get(jetstream.MsgIDHeader), m.Data())
	if reason != "" {
		return nil
	}
	return []acceptedEvent{{ev, m.Data()}}
}

// start runs the head of a key's queue. s.mu is held.
func (s *sequencer) start(k string, q *keyQueue) {
	u := q.units[0]
	slots := s.slots[u.webhook]
	if slots == nil {
		slots = make(chan struct{}, s.e.o.PerWebhook)
		s.slots[u.webhook] = slots
	}
	s.e.wg.Add(1)
	go s.run(k, q, u, slots)
}

// run makes one attempt at the head of a key's queue, then retries it later,
// or settles it and starts the next.
func (s *sequencer) run(k string, q *keyQueue, u *unit, slots chan struct{}) {
	defer s.e.wg.Done()
	select {
	case slots <- struct{}{}:
	case <-s.e.work.Done():
		return // handed back by stop
	}
	s.e.mu.Lock()
	l := s.e.lane(u.webhook)
	s.e.mu.Unlock()
	s.e.runUnit(l, u)
	<-slots

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.e.work.Err() != nil {
		return
	}
	if d := u.retryIn; d > 0 {
		u.retryIn = 0
		u.attempt++
		q.timer = time.AfterFunc(d, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			q.timer = nil
			if !s.stopped {
				s.start(k, q)
			}
		})
		return
	}
	h := u.ordered
	if h.left--; h.left == 0 {
		if err := h.m.Ack(); err != nil {
			s.e.log.Warn().Err(err).Str("event", u.items[0].EventID).Msg("ack failed; the event will be delivered again")
		}
		delete(s.held, u.seq)
	}
	q.units = q.units[1:]
	if len(q.units) == 0 {
		delete(s.keys, k)
		return
	}
	s.start(k, q)
}

// each calls f on every event in hand.
func (s *sequencer) each(f func(jetstream.Msg)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.held {
		f(h.m)
	}
}

// stop hands every event in hand back to JetStream, at shutdown: the next hub
// gets them, and what follows them, in order.
func (s *sequencer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for _, q := range s.keys {
		if q.timer != nil {
			q.timer.Stop()
		}
	}
	for _, h := range s.held {
		_ = h.m.Nak()
	}
	s.keys, s.held = map[string]*keyQueue{}, map[uint64]*heldEvent{}
}
