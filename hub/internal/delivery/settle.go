package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// Outcomes of an attempt, as the attempt log records them.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeDead      = "dead"
	OutcomeSkipped   = "skipped"
	// OutcomeFailed is a test send's failure: test sends are not retried
	// and never reach the dead letters.
	OutcomeFailed = "failed"
)

// Attempt is one record of the attempt log (the attempts stream).
type Attempt struct {
	Job         string              `json:"job"`             // the webhook-id header of a single delivery
	Batch       string              `json:"batch,omitempty"` // the webhook-id header, when the event went in a batch
	Webhook     string              `json:"webhook"`
	Account     string              `json:"account"`
	EventID     string              `json:"event_id"`
	EventType   string              `json:"event_type,omitempty"`
	Attempt     int                 `json:"attempt"`
	Outcome     string              `json:"outcome"`
	Status      int                 `json:"status,omitempty"`
	LatencyMS   float64             `json:"latency_ms"`
	Error       string              `json:"error,omitempty"`
	Response    string              `json:"response,omitempty"`
	Headers     map[string][]string `json:"request_headers,omitempty"`
	At          time.Time           `json:"at"`
	NextRetryAt *time.Time          `json:"next_retry_at,omitempty"`
	// Test marks a test send (POST /v1/webhooks/{id}/test): recorded for the
	// log's reader, never counted as a delivery or a failure.
	Test bool `json:"test,omitempty"`
}

// settle acks, schedules or dead-letters the unit after an attempt, and
// records the attempt of each of its events. When it cannot, the unit's
// messages go back to JetStream as they were: nothing is lost.
func (e *Engine) settle(ctx context.Context, w *webhooks.Webhook, u *unit, res result) {
	outcome := OutcomeDelivered
	var next *time.Time
	opsAccount := u.account() // where operational events about this unit go
	if u.operational() {
		opsAccount = "" // a failing ops webhook must not feed itself events
	}
	disabledNow := false
	if res.err != nil && !res.skipped && e.o.Health != nil && w != nil && !errors.Is(res.err, ErrPermanent) {
		disabledNow = e.o.Health.Failed(ctx, opsAccount, u.webhook, res.status)
	}
	switch {
	case res.skipped:
		e.Stats.Skipped.Add(int64(len(u.items)))
		outcome = OutcomeSkipped
	case res.err == nil:
		e.Stats.Delivered.Add(int64(len(u.items)))
		e.fails.succeeded(u.webhook)
		if e.o.Health != nil {
			e.o.Health.Succeeded(ctx, opsAccount, u.webhook)
		}
	case errors.Is(res.err, ErrPermanent) || w == nil || u.attempt >= w.Attempts() || disabledNow:
		e.Stats.Failed.Add(1)
		if err := e.deadLetter(ctx, u, res); err != nil {
			e.handBackUnit(u, 5*time.Second, err)
			return
		}
		e.Stats.DeadLettered.Add(int64(len(u.items)))
		outcome = OutcomeDead
		if e.o.Health != nil && !errors.Is(res.err, errDisabled) {
			e.o.Health.Exhausted(ctx, opsAccount, u.webhook, oneLine(res.err.Error(), 512))
		}
		e.log.Warn().Str("job", u.id).Str("webhook", u.webhook).Int("attempt", u.attempt).
			Str("reason", res.err.Error()).Msg("delivery failed for good; moved to dead letters")
	default:
		e.Stats.Failed.Add(1)
		delay := backoff(w.Schedule, w.Jitter, u.attempt, res.retryAfter)
		var at time.Time
		var err error
		if u.ordered != nil {
			at, u.retryIn = time.Now().Add(delay), delay // in place: the key waits for it
		} else if at, err = e.scheduleRetry(ctx, u, delay); err != nil {
			e.handBackUnit(u, delay, err)
			return
		}
		e.Stats.Retried.Add(1)
		outcome, next = OutcomeRetrying, &at
		e.logRetry(u, res.err, at)
	}
	e.acked.add(u.msgs) // before the ack: a copy handed out meanwhile is not delivered again
	for _, m := range u.msgs {
		if err := m.Ack(); err != nil {
			e.log.Warn().Err(err).Str("job", u.id).Msg("ack failed; the job will be delivered again")
		}
	}
	u.finish(nil)
	e.o.Metrics.Delivery(outcome, res.status, res.latency)
	e.record(u, res, outcome, next)
}

// logRetry logs a failed attempt that will be tried again: a webhook's
// first failure, then at most one line per FailLogEvery that counts the
// failures since the last line and gives the last one's reason (a failing
// endpoint under load would otherwise be a line per attempt).
func (e *Engine) logRetry(u *unit, err error, next time.Time) {
	now := time.Now()
	ok, n, span := e.fails.failed(u.webhook, now)
	if !ok {
		return
	}
	reason := oneLine(err.Error(), 512)
	l := e.log.Info().Str("job", u.id).Str("webhook", u.webhook).Int("attempt", u.attempt).Str("reason", reason).Time("next_retry_at", next)
	if n == 1 {
		l.Msg("delivery failed; will retry")
		return
	}
	l.Int("failed", n).Msgf("%d attempts failed in the last %s, last: %s", n, span.Round(time.Second), reason)
}

func (e *Engine) handBackUnit(u *unit, delay time.Duration, err error) {
	e.log.Warn().Err(err).Str("job", u.id).Msg("settling failed; the job will be delivered again")
	if u.ordered != nil {
		u.retryIn = max(delay, time.Second) // same attempt again, its key still held
		u.attempt--
	}
	e.mu.Lock()
	e.release(u.msgs) // handed back: its next copy is to be delivered
	e.mu.Unlock()
	for _, m := range u.msgs {
		_ = m.NakWithDelay(delay)
	}
	u.finish(err)
}

// accountOf reads the account from a job subject <prefix>.deliveries.<account>.<webhook>.
func accountOf(subject string) string {
	parts := strings.Split(subject, ".")
	if len(parts) < 4 {
		return ""
	}
	return parts[len(parts)-2]
}

// record publishes one attempt record per event of the unit.
func (e *Engine) record(u *unit, res result, outcome string, next *time.Time) {
	shared := &Attempt{
		Webhook: u.webhook, Account: u.account(), Attempt: u.attempt,
		Outcome: outcome, Status: res.status, LatencyMS: float64(res.latency.Microseconds()) / 1000,
		Response: res.excerpt, Headers: res.headers, At: time.Now().UTC(), NextRetryAt: next,
	}
	if u.batch {
		shared.Batch = u.id
	}
	if res.err != nil {
		shared.Error = res.err.Error()
	}
	enc, err := newAttemptEncoder(shared)
	if err != nil {
		e.log.Warn().Err(err).Str("webhook", u.webhook).Msg("recording the attempt failed")
		return
	}
	for i, it := range u.items {
		var typ string
		if i < len(res.types) {
			typ = res.types[i]
		} else if ev, err := envelope.ParseStored(it.Raw); err == nil {
			typ = ev.Type // no request was built (webhook disabled, inactive or gone)
		}
		// A JetStream publish, not a plain one: a plain publish the stream
		// cannot take in time is dropped without a word, and the stats and
		// the attempts API read this log. The async publish also bounds
		// how many wait for the server.
		msg := nats.NewMsg(e.o.Bus.Names.Attempt(shared.Account, shared.Webhook))
		msg.Data = enc.record(it.Job, it.EventID, typ)
		if _, err := e.o.Bus.JS.PublishMsgAsync(msg); err != nil {
			e.log.Warn().Err(err).Str("job", it.Job).Msg("recording the attempt failed")
		}
	}
}

// deadLetter stores each event of the unit, with the reason, in the
// dead-letter stream: one message per event, so each can be redriven.
func (e *Engine) deadLetter(ctx context.Context, u *unit, res result) error {
	failedAt := time.Now().UTC().Format(time.RFC3339Nano)
	for _, it := range u.items {
		msg := nats.NewMsg(e.o.Bus.Names.DeadLetter(u.account(), u.webhook))
		msg.Header.Set(bus.HeaderJob, it.Job)
		msg.Header.Set(bus.HeaderWebhook, u.webhook)
		msg.Header.Set(bus.HeaderEventID, it.EventID)
		msg.Header.Set(bus.HeaderReason, oneLine(res.err.Error(), 1024))
		msg.Header.Set(bus.HeaderAttempts, strconv.Itoa(u.attempt))
		if res.status != 0 {
			msg.Header.Set(bus.HeaderStatus, strconv.Itoa(res.status))
		}
		if u.batch {
			msg.Header.Set(bus.HeaderBatch, u.id)
		}
		msg.Header.Set(bus.HeaderFailedAt, failedAt)
		msg.Header.Set(jetstream.MsgIDHeader, it.Job+"#"+strconv.Itoa(u.attempt)+"#dead")
		msg.Data = it.Raw
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := e.o.Bus.JS.PublishMsg(pctx, msg)
		cancel()
		if err != nil {
			return fmt.Errorf("dead-lettering: %w", err)
		}
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}
