package delivery

import (
	"time"
)

// Direct first attempts.
//
// With delivery.direct_first_attempt on, the router hands an event's first
// attempt to a webhook straight to the engine (TryFirst) when the webhook's
// lane in this process is idle and healthy, instead of writing a job to the
// deliveries stream and taking it back: one JetStream cycle per delivery
// instead of two. The attempt runs in the webhook's lane like any job, under
// the same bounds, and is settled the same way: recorded in the attempt log,
// and on failure stored as a retry (attempt 2, the same webhook-id) or as a
// dead letter. Only then is the router told (done), and only then does it
// ack the event: a hub killed in between leaves the event unacknowledged, and
// it is routed again, through a job, under the same webhook-id.

// TryFirst starts the first attempt of job (event eventID of account, stored
// as raw at stored) to webhook when the webhook's lane here can take it at
// once, and reports whether it did. A lane already busy to its limit, with
// units queued, paused or cut down by an overloaded endpoint, whose last
// attempt failed, or that is rate limited, batching, ordered, disabled or
// inactive, is not taken: the caller writes a job, as without TryFirst.
//
// When it returns true, done is called exactly once, after the attempt is
// settled (nil: delivered, or its retry or dead letter stored) or when it
// could not be (an error: the caller hands the event back to be routed
// again). done must not block.
func (e *Engine) TryFirst(account, webhook, job, eventID string, raw []byte, stored time.Time, done func(error)) bool {
	w := e.o.Webhooks.Get(webhook)
	if w == nil || w.Account != account || !w.IsActive() || w.Batch != nil || w.Ordering != nil || w.RateLimit != nil {
		return false
	}
	if e.o.PerHost > 0 || len(e.sem) >= cap(e.sem) || e.disabled(webhook) != "" {
		return false
	}
	if !e.waitStarted() {
		return false
	}
	now := time.Now()
	e.mu.Lock()
	if e.work == nil || e.closing || e.work.Err() != nil {
		e.mu.Unlock()
		return false
	}
	l := e.lane(webhook)
	if l.failed || l.running >= l.flow.limit || l.flow.limit < e.o.PerWebhook || len(l.queue) > 0 || len(l.pending) > 0 || l.flow.paused.After(now) {
		e.mu.Unlock()
		return false
	}
	l.running++
	e.wg.Add(1) // under e.mu, before Run can start waiting: see closing
	e.mu.Unlock()
	e.Stats.Direct.Add(1)
	u := &unit{
		id: job, webhook: webhook, subject: e.o.Bus.Names.Delivery(account, webhook), attempt: 1,
		items:  []item{{Job: job, EventID: eventID, Raw: raw, Stored: stored}},
		direct: done,
	}
	go e.runLane(l, u)
	return true
}

// waitStarted waits, up to a second, until Run has started: the router and
// the engine start together, and the first events of a start would otherwise
// all go by jobs.
func (e *Engine) waitStarted() bool {
	select {
	case <-e.started:
		return true
	default:
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-e.started:
		return true
	case <-t.C:
		return false
	}
}

// finish tells the router that handed u over how its first attempt
// settled; a no-op for a unit that came from a job.
func (u *unit) finish(err error) {
	if f := u.direct; f != nil {
		u.direct = nil
		f(err)
	}
}
