package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
)

// HeaderStored carries a retried job's first stored time (RFC 3339): the
// body's timestamp of an event without one, the same on every attempt. A
// retry is a new message, whose own time is later.
const HeaderStored = "Hookhub-Stored"

// item is one event of a unit, as a batch job carries it.
type item = bus.BatchItem

// unit is what one attempt delivers: one job, or a batch of them.
type unit struct {
	msgs    []jetstream.Msg // what the unit settles: one job, one scheduled batch, or a fresh batch's jobs
	items   []item
	id      string // the webhook-id header
	webhook string
	subject string // <prefix>.deliveries.<account>.<webhook>
	attempt int
	seq     uint64 // stream sequence of msgs[0], which names its retry subject
	batch   bool
	// ordered is the event an ordered job was made from (msgs is empty):
	// such a job is retried in place, after retryIn, which settle sets.
	ordered *heldEvent
	retryIn time.Duration
	took    time.Time // when this hub took the unit (submit)
	// direct is how a first attempt handed over by the router (TryFirst)
	// reports that it is settled (msgs is empty); see finish.
	direct func(error)
}

func (u *unit) account() string { return accountOf(u.subject) }

// operational reports whether the unit carries the hub's own operational
// events (hookhub.*).
func (u *unit) operational() bool {
	for _, it := range u.items {
		if !strings.HasPrefix(it.Job, "hh_hookhub.") {
			return false
		}
	}
	return true
}

// singleUnit reads a job message.
func singleUnit(m jetstream.Msg, webhook string) *unit {
	h := m.Headers()
	u := &unit{msgs: []jetstream.Msg{m}, id: h.Get(bus.HeaderJob), webhook: webhook, subject: m.Subject(), attempt: attemptOf(h.Get(bus.HeaderAttempt))}
	it := item{Job: u.id, EventID: h.Get(bus.HeaderEventID), Raw: m.Data()}
	if md, err := m.Metadata(); err == nil {
		u.seq, it.Stored = md.Sequence.Stream, md.Timestamp
	}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderStored)); err == nil {
		it.Stored = t
	}
	if u.id == "" {
		u.id = it.EventID + ":" + webhook
		it.Job = u.id
	}
	u.items = []item{it}
	return u
}

// scheduledBatch reads a batch that came back for its next attempt.
func scheduledBatch(m jetstream.Msg, webhook string) (*unit, error) {
	h := m.Headers()
	u := &unit{msgs: []jetstream.Msg{m}, id: h.Get(bus.HeaderJob), webhook: webhook, subject: m.Subject(),
		attempt: attemptOf(h.Get(bus.HeaderAttempt)), batch: true}
	if md, err := m.Metadata(); err == nil {
		u.seq = md.Sequence.Stream
	}
	items, err := bus.UnmarshalBatch(m.Data())
	if err == nil && len(items) == 0 {
		err = errors.New("no events in it")
	}
	if err != nil {
		return u, fmt.Errorf("a scheduled batch of webhook %s is unreadable: %w", webhook, err)
	}
	u.items = items
	return u, nil
}

// setAside stores a job that cannot be read with the rejected events, with
// the reason, and acks it: only the hub writes jobs, so this is a fault,
// not an input, and the job is neither dropped without a trace nor read
// again forever. It holds no event to dead-letter or redrive.
func (e *Engine) setAside(ctx context.Context, m jetstream.Msg, reason error) {
	h := m.Headers()
	out := e.o.Bus.Names.RejectedMsg(m.Subject(), accountOf(m.Subject()), oneLine(reason.Error(), 1024), m.Data())
	out.Header.Set(bus.HeaderJob, h.Get(bus.HeaderJob))
	out.Header.Set(bus.HeaderWebhook, h.Get(bus.HeaderWebhook))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.o.Bus.JS.PublishMsg(pctx, out); err != nil {
		e.log.Warn().Err(err).Str("job", h.Get(bus.HeaderJob)).Msg("storing an unreadable job with the rejected events failed; will retry")
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	e.Stats.Failed.Add(1)
	e.log.Error().Str("job", h.Get(bus.HeaderJob)).Str("webhook", h.Get(bus.HeaderWebhook)).Str("reason", reason.Error()).
		Msg("a job could not be read: stored with the rejected events")
	_ = m.Ack()
}

// freshBatch joins job messages of one webhook into a batch.
func freshBatch(msgs []jetstream.Msg, webhook string) *unit {
	u := &unit{msgs: msgs, webhook: webhook, subject: msgs[0].Subject(), attempt: 1, batch: true}
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		s := singleUnit(m, webhook)
		u.items = append(u.items, s.items[0])
		ids = append(ids, s.items[0].Job)
	}
	if md, err := msgs[0].Metadata(); err == nil {
		u.seq = md.Sequence.Stream
	}
	u.id = bus.BatchID(ids)
	return u
}

func attemptOf(h string) int {
	if a, err := strconv.Atoi(h); err == nil && a > 0 {
		return a
	}
	return 1
}

// lane is one webhook's share of this process: at most PerWebhook units
// running, a bounded queue of units waiting for a slot, and for a batching
// webhook the jobs gathering into the next batch.
type lane struct {
	webhook      string
	running      int
	queue        []*unit
	pending      []jetstream.Msg // jobs gathering into a batch
	pendingBytes int             // their size as a batch's retry holds them (itemSize)
	timer        *time.Timer
	flow         flow
	failed       bool // the last attempt failed: no direct first attempts (TryFirst)
	// svc is how long a unit of this lane takes to process (a moving
	// average), and backAt when the last unit handed back is due back:
	// together they pace the units a full lane hands back (deferFor).
	svc    time.Duration
	backAt time.Time
}

func (e *Engine) lane(webhook string) *lane {
	l := e.lanes[webhook]
	if l == nil {
		l = &lane{webhook: webhook, flow: flow{limit: e.o.PerWebhook}}
		e.lanes[webhook] = l
	}
	return l
}

// dispatch runs in the consumer's goroutine and never waits on a receiver.
func (e *Engine) dispatch(m jetstream.Msg) {
	if e.again(m) {
		return
	}
	webhook := m.Headers().Get(bus.HeaderWebhook)
	if m.Headers().Get(bus.HeaderBatch) != "" {
		u, err := scheduledBatch(m, webhook)
		if err != nil {
			e.wg.Add(1)
			go func() { defer e.wg.Done(); e.setAside(e.work, m, err) }()
			return
		}
		e.submit(u)
		return
	}
	if w := e.o.Webhooks.Get(webhook); w != nil && w.Batch != nil && w.IsActive() {
		e.gather(m, webhook, w.Batch.MaxEvents, w.Batch.MaxWait.D())
		return
	}
	e.submit(singleUnit(m, webhook))
}

// gather adds a job to its webhook's next batch, which goes when it is full
// (maxEvents, or as many bytes as its retry can hold in one NATS message:
// bus.BatchMaxBytes) or maxWait after its first job. A batch past that
// bound could not be stored for its retry, and its jobs would come back as
// new ones, forever.
func (e *Engine) gather(m jetstream.Msg, webhook string, maxEvents int, maxWait time.Duration) {
	size := itemSize(m, webhook)
	e.mu.Lock()
	l := e.lane(webhook)
	var ready [][]jetstream.Msg
	if len(l.pending) > 0 && l.pendingBytes+size > e.o.Bus.BatchMaxBytes() {
		ready = append(ready, l.takePending())
	}
	l.pending = append(l.pending, m)
	l.pendingBytes += size
	e.hold([]jetstream.Msg{m})
	switch {
	case len(l.pending) >= maxEvents:
		ready = append(ready, l.takePending())
	case l.timer == nil:
		l.timer = time.AfterFunc(maxWait, func() { e.flush(webhook) })
	}
	e.mu.Unlock()
	for _, msgs := range ready {
		e.submit(freshBatch(msgs, webhook))
	}
}

// takePending takes the batch gathered so far and stops its timer (e.mu held).
func (l *lane) takePending() []jetstream.Msg {
	msgs := l.pending
	l.pending, l.pendingBytes = nil, 0
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	return msgs
}

// itemSize bounds what job m of webhook takes in a batch's retry
// (bus.BatchItemSize; a job without its id header gets one, as singleUnit
// gives it).
func itemSize(m jetstream.Msg, webhook string) int {
	h := m.Headers()
	job, eventID := h.Get(bus.HeaderJob), h.Get(bus.HeaderEventID)
	if job == "" {
		job = eventID + ":" + webhook
	}
	return bus.BatchItemSize(m.Data(), job, eventID)
}

func (e *Engine) flush(webhook string) {
	e.mu.Lock()
	l := e.lane(webhook)
	msgs := l.takePending() // its timer is the one that fired
	e.mu.Unlock()
	if len(msgs) > 0 {
		e.submit(freshBatch(msgs, webhook))
	}
}

// submit runs u at once if its webhook has a free slot, queues it if not, and
// hands it back to JetStream for a moment when even the queue is full, so
// that a slow webhook takes no worker from the others.
func (e *Engine) submit(u *unit) {
	if u.took.IsZero() {
		u.took = time.Now()
	}
	e.mu.Lock()
	l := e.lane(u.webhook)
	switch {
	case l.running < l.flow.limit:
		l.running++
		e.hold(u.msgs)
		e.mu.Unlock()
		e.wg.Add(1)
		e.pool.Go(func() { e.runLane(l, u) })
	case len(l.queue) < e.queueCap():
		l.queue = append(l.queue, u)
		e.hold(u.msgs)
		e.mu.Unlock()
	default:
		e.release(u.msgs) // a batch's jobs, held while gathering
		delay := l.deferFor(time.Now(), handedBack(u))
		e.mu.Unlock()
		e.Stats.Deferred.Add(1)
		for _, m := range u.msgs {
			_ = m.NakWithDelay(delay)
		}
	}
}

// How long a unit handed back by a full lane stays away: at least
// minDefer (it comes back soon when the lane is only briefly full), at most
// maxDefer (a webhook that recovers gets its jobs back soon).
const (
	minDefer = 200 * time.Millisecond
	maxDefer = 10 * time.Second
)

// deferFor is how long a unit handed back now stays away: about when the
// lane can take it. The lane takes flow.limit units at a time, each for svc,
// so one unit every svc/limit; the units queued and those handed back before
// this one go first. A burst to one webhook is then handed back about once a
// job, where a fixed short delay sent each job around every few hundred ms
// (six times a job in `hookhub bench --events 100000` with one webhook). Units
// come back a fifth early, so that the queue stays full; with jitter. It
// holds the engine's mutex.
//
// A unit that was out before (again) came back early and already has its
// turn counted: it waits only for the queue, and takes no new turn, or every
// early return would push all later ones back.
func (l *lane) deferFor(now time.Time, again bool) time.Duration {
	slot := l.svc / time.Duration(max(1, l.flow.limit))
	queue := time.Duration(len(l.queue)) * slot
	var d time.Duration
	if again {
		d = queue
	} else {
		if l.backAt.Before(now) {
			l.backAt = now.Add(queue)
		}
		l.backAt = l.backAt.Add(slot)
		d = l.backAt.Sub(now) * 4 / 5
	}
	d += time.Duration(rand.Int64N(int64(d/5) + 1)) // jitter: up to a fifth more
	return min(maxDefer, max(minDefer+time.Duration(rand.IntN(400))*time.Millisecond, d))
}

// queueCap bounds the units waiting in one lane: enough to ride out a burst
// to one webhook without handing jobs back, small enough that a webhook that
// hangs holds few of the consumer's pending acks.
func (e *Engine) queueCap() int { return max(1024, 16*e.o.PerWebhook) }

// runLane processes u, then the lane's queued units, until the queue is empty
// or the lane's flow control wants fewer units running.
func (e *Engine) runLane(l *lane, u *unit) {
	defer e.wg.Done()
	for {
		e.runUnit(l, u)
		e.mu.Lock()
		if len(l.queue) == 0 || e.work.Err() != nil || l.running > l.flow.limit {
			l.running--
			e.mu.Unlock()
			return
		}
		u = l.queue[0]
		l.queue = l.queue[1:]
		grown := e.startQueued(l)
		e.mu.Unlock()
		for _, x := range grown {
			e.wg.Add(1)
			e.pool.Go(func() { e.runLane(l, x) })
		}
	}
}

// startQueued takes the queued units that the lane's limit, grown back by
// successes, lets run beside the running ones, and counts them as running;
// the caller starts a runner for each. It holds e.mu.
func (e *Engine) startQueued(l *lane) []*unit {
	var out []*unit
	for l.running < l.flow.limit && len(l.queue) > 0 {
		out = append(out, l.queue[0])
		l.queue = l.queue[1:]
		l.running++
	}
	return out
}

// runUnit waits for what flow control asks (a pause, the rate limit, a slot
// at the host), then takes a worker and processes the unit.
func (e *Engine) runUnit(l *lane, u *unit) {
	w := e.o.Webhooks.Get(u.webhook)
	e.mu.Lock()
	e.running[u] = u.took
	e.mu.Unlock()
	release, err := e.admit(e.work, l, w)
	if err != nil { // shutting down
		e.mu.Lock()
		delete(e.running, u)
		e.release(u.msgs)
		e.mu.Unlock()
		for _, m := range u.msgs {
			_ = m.Nak()
		}
		u.finish(err)
		return
	}
	e.sem <- struct{}{}
	start := time.Now()
	res := e.process(e.work, w, u)
	took := time.Since(start)
	<-e.sem
	release()
	e.mu.Lock()
	if l.svc == 0 {
		l.svc = took
	} else {
		l.svc += (took - l.svc) / 8
	}
	delete(e.running, u)
	e.release(u.msgs)
	l.flow.observe(res, e.o.PerWebhook, time.Now())
	l.failed = res.err != nil && !res.skipped
	e.mu.Unlock()
}

// handedBack reports whether u's job was handed out before (a unit handed
// back by a full lane, coming back); a batch is never.
func handedBack(u *unit) bool {
	if len(u.msgs) != 1 {
		return false
	}
	md, err := u.msgs[0].Metadata()
	return err == nil && md.NumDelivered > 1
}

// eachWaiting calls f on every message waiting in a queue or a gathering batch.
func (e *Engine) eachWaiting(f func(jetstream.Msg)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.lanes {
		for _, u := range l.queue {
			for _, m := range u.msgs {
				f(m)
			}
		}
		for _, m := range l.pending {
			f(m)
		}
	}
}

// eachHeld calls f, under e.mu, on every message waiting in a queue or a
// gathering batch, and on those of running units taken before since (a unit
// that waited in a queue is renewed on, not anew from when it started).
func (e *Engine) eachHeld(since time.Time, f func(jetstream.Msg)) {
	e.eachWaiting(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	for u, took := range e.running {
		if took.Before(since) {
			for _, m := range u.msgs {
				f(m)
			}
		}
	}
}

// handBack returns every waiting job to JetStream, at shutdown.
func (e *Engine) handBack() {
	var waiting []jetstream.Msg
	e.eachWaiting(func(m jetstream.Msg) { waiting = append(waiting, m) })
	e.mu.Lock()
	for _, l := range e.lanes {
		l.queue, l.pending, l.pendingBytes = nil, nil, 0
		if l.timer != nil {
			l.timer.Stop()
			l.timer = nil
		}
	}
	e.release(waiting)
	e.mu.Unlock()
	for _, m := range waiting {
		_ = m.Nak()
	}
}
