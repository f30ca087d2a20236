package routing

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// Direct makes an event's first attempt to a webhook straight from the
// router, without a job (delivery.Engine is one; hub wires it in). TryFirst
// reports whether it took the attempt; when it did, it calls done once the
// attempt is settled (nil) or could not be (an error), and done never blocks.
type Direct interface {
	TryFirst(account, webhook, job, eventID string, raw []byte, stored time.Time, done func(error)) bool
}

// DefaultDirectHeld bounds the events whose first attempts are in flight
// (held, unacknowledged) at once: well under the router consumer's 10,000
// pending acks, so that events held by slow receivers never stall the
// routing of others. Past it, events get jobs as without Direct.
const DefaultDirectHeld = 4096

// directFresh is how recently an event must have been stored for its
// first attempts to be made straight from the router: well within the
// router consumer's ack wait, so that the event is kept alive (keepAlive)
// before JetStream could hand it to another router.
const directFresh = bus.RouterAck / 2

// UseDirect lets the router hand first attempts to d (nil: jobs only), with
// at most held events waiting on them at once (<= 0: DefaultDirectHeld).
// Call it before Run.
func (r *Router) UseDirect(d Direct, held int) {
	if held <= 0 {
		held = DefaultDirectHeld
	}
	r.direct, r.directSlots = d, make(chan struct{}, held)
}

// heldEvent is an event whose first attempts run in the delivery engine:
// it is acked when the last of them is settled and the router has written
// the jobs of its other webhooks, and handed back to be routed again if any
// of those failed. Until then it is kept in hand (keepAlive).
type heldEvent struct {
	m       jetstream.Msg
	r       *Router
	stop    func()
	mu      sync.Mutex
	waiting int // the attempts handed over, plus the router's own part
	err     error
}

// handOver offers the first attempt of an event (m, whose metadata is md,
// nil when unreadable) to each of matches through
// r.direct, and returns the event held for those it took (nil: none) and
// the matches that still need a job.
//
// Only an event that comes to the router for the first time, and whose
// archive copy was new (archivedDup false), is offered: one routed again
// (after a crash or a failed write) may already have its jobs, and a
// webhook must not get it both from a job and straight; it gets jobs, which
// de-duplicate against jobs only. The archive copies that come here as
// duplicates are this message's own (its archive write was stored when the
// router last saw no answer, and the consumer forgot the delivery) or an
// older hub's, which do not say where they came from: another copy of the
// event, published again, was rejected before (republished). Events of
// ordered webhooks, which the sequencer archives too, never come here.
//
// Nor does an event stored more than directFresh ago (a backlog, or one that
// waited in this hub's buffer): JetStream hands an event to a second router
// only RouterAck after the first, and a copy that came again while its first
// attempt ran straight from here would get a job, and a second delivery.
func (r *Router) handOver(m jetstream.Msg, md *jetstream.MsgMetadata, account, eventID string, raw []byte, matches []*webhooks.Webhook, archivedDup bool) (held *heldEvent, jobs []*webhooks.Webhook) {
	switch {
	case md == nil || md.NumDelivered != 1 || archivedDup:
		return nil, matches
	case time.Since(md.Timestamp) > directFresh:
		return nil, matches
	}
	select {
	case r.directSlots <- struct{}{}:
	default:
		return nil, matches // enough events held already
	}
	h := &heldEvent{m: m, r: r, waiting: 1}
	r.held.Add(1)
	rest := matches[:0:0]
	for _, w := range matches {
		h.mu.Lock()
		h.waiting++
		h.mu.Unlock()
		if r.direct.TryFirst(account, w.ID, accept.JobID(eventID, w.ID), eventID, raw, md.Timestamp, h.done) {
			r.Stats.Direct.Add(1)
			continue
		}
		h.mu.Lock()
		h.waiting--
		h.mu.Unlock()
		rest = append(rest, w)
	}
	if len(rest) == len(matches) { // nothing taken
		r.held.Done()
		<-r.directSlots
		return nil, matches
	}
	h.stop = keepAlive(m)
	return h, rest
}

// done counts one part of the event settled; the last one acks the event,
// or hands it back when any part failed.
func (h *heldEvent) done(err error) {
	h.mu.Lock()
	if err != nil && h.err == nil {
		h.err = err
	}
	h.waiting--
	last := h.waiting == 0
	err = h.err
	h.mu.Unlock()
	if !last {
		return
	}
	if h.stop != nil {
		h.stop()
	}
	if err != nil {
		h.r.log.Warn().Err(err).Msg("a first attempt could not be settled; event will be routed again")
		_ = h.m.NakWithDelay(time.Second)
	} else {
		_ = h.m.Ack()
	}
	<-h.r.directSlots
	h.r.held.Done()
}
