package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// Outcomes of an attempt, as the attempt log records them.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeDead      = "dead"
	OutcomeSkipped   = "skipped"
)

// Attempt is one record of the attempt log (the attempts stream).
type Attempt struct {
	Job         string              `json:"job"` // the webhook-id header
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
}

// settle acks, schedules or dead-letters the job after an attempt, and records
// the attempt. An error means the job was handed back to JetStream as it was.
func (e *Engine) settle(ctx context.Context, m jetstream.Msg, w *webhooks.Webhook, j job, res result) error {
	rec := e.record(m, j, res)
	switch {
	case res.skipped:
		e.Stats.Skipped.Add(1)
		rec.Outcome = OutcomeSkipped
		e.log.Debug().Str("job", j.id).Msg("skipped by plugin")
		return e.ackAndRecord(m, rec)
	case res.err == nil:
		e.Stats.Delivered.Add(1)
		rec.Outcome = OutcomeDelivered
		return e.ackAndRecord(m, rec)
	}
	e.Stats.Failed.Add(1)
	if errors.Is(res.err, ErrPermanent) || w == nil || j.attempt >= w.Attempts() {
		if err := e.deadLetter(ctx, m, j, rec, res); err != nil {
			_ = m.NakWithDelay(5 * time.Second)
			return err
		}
		e.Stats.DeadLettered.Add(1)
		rec.Outcome = OutcomeDead
		e.log.Warn().Str("job", j.id).Str("webhook", j.webhook).Int("attempt", j.attempt).
			Str("reason", rec.Error).Msg("delivery failed for good; moved to dead letters")
		return e.ackAndRecord(m, rec)
	}
	delay := backoff(w.Schedule, w.Jitter, j.attempt, res.retryAfter)
	at, err := e.scheduleRetry(ctx, m, j, delay)
	if err != nil {
		_ = m.NakWithDelay(delay)
		return err
	}
	e.Stats.Retried.Add(1)
	rec.Outcome = OutcomeRetrying
	rec.NextRetryAt = &at
	e.log.Info().Str("job", j.id).Str("webhook", j.webhook).Int("attempt", j.attempt).
		Str("reason", rec.Error).Time("next_retry_at", at).Msg("delivery failed; will retry")
	return e.ackAndRecord(m, rec)
}

func (e *Engine) ackAndRecord(m jetstream.Msg, rec *Attempt) error {
	if err := m.Ack(); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	e.publishRecord(rec)
	return nil
}

// accountOf reads the account from a job subject <prefix>.deliveries.<account>.<webhook>.
func accountOf(subject string) string {
	parts := strings.Split(subject, ".")
	if len(parts) < 4 {
		return ""
	}
	return parts[len(parts)-2]
}

func (e *Engine) record(m jetstream.Msg, j job, res result) *Attempt {
	rec := &Attempt{
		Job: j.id, Webhook: j.webhook, Account: accountOf(m.Subject()),
		EventID: m.Headers().Get(bus.HeaderEventID), Attempt: j.attempt,
		Status: res.status, LatencyMS: float64(res.latency.Microseconds()) / 1000,
		Response: res.excerpt, Headers: res.headers, At: time.Now().UTC(),
	}
	if res.ev != nil {
		rec.EventType = res.ev.Type
	}
	if res.err != nil {
		rec.Error = res.err.Error()
	}
	return rec
}

func (e *Engine) publishRecord(rec *Attempt) {
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	msg := nats.NewMsg(e.o.Bus.Names.Attempt(rec.Account, rec.Webhook))
	msg.Data = b
	if _, err := e.o.Bus.JS.PublishMsgAsync(msg); err != nil {
		e.log.Warn().Err(err).Str("job", rec.Job).Msg("recording the attempt failed")
	}
}

// scheduleRetry stores the job as a message the server moves back to the job
// subject when it is due, then the caller acks the current one. A crash in
// between delivers the current one again; the retry's message id keeps the
// schedule from being stored twice.
func (e *Engine) scheduleRetry(ctx context.Context, m jetstream.Msg, j job, delay time.Duration) (time.Time, error) {
	at := time.Now().Add(delay)
	if at.Nanosecond() != 0 { // the schedule has whole seconds: never early
		at = at.Truncate(time.Second).Add(time.Second)
	}
	next := j.attempt + 1
	msg := nats.NewMsg(e.o.Bus.Names.Retry(j.seq))
	h := m.Headers()
	msg.Header.Set(bus.HeaderJob, j.id)
	msg.Header.Set(bus.HeaderWebhook, j.webhook)
	msg.Header.Set(bus.HeaderEventID, h.Get(bus.HeaderEventID))
	msg.Header.Set(bus.HeaderAttempt, strconv.Itoa(next))
	msg.Header.Set("Nats-Schedule", "@at "+at.UTC().Format(time.RFC3339))
	msg.Header.Set("Nats-Schedule-Target", m.Subject())
	msg.Header.Set(jetstream.MsgIDHeader, j.id+"#"+strconv.Itoa(next))
	msg.Data = m.Data()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.o.Bus.JS.PublishMsg(pctx, msg); err != nil {
		return at, fmt.Errorf("scheduling retry %d: %w", next, err)
	}
	return at, nil
}

// deadLetter stores the job with its reason in the dead-letter stream.
func (e *Engine) deadLetter(ctx context.Context, m jetstream.Msg, j job, rec *Attempt, res result) error {
	msg := nats.NewMsg(e.o.Bus.Names.DeadLetter(rec.Account, j.webhook))
	msg.Header.Set(bus.HeaderJob, j.id)
	msg.Header.Set(bus.HeaderWebhook, j.webhook)
	msg.Header.Set(bus.HeaderEventID, rec.EventID)
	msg.Header.Set(bus.HeaderReason, oneLine(rec.Error, 1024))
	msg.Header.Set(bus.HeaderAttempts, strconv.Itoa(j.attempt))
	if res.status != 0 {
		msg.Header.Set(bus.HeaderStatus, strconv.Itoa(res.status))
	}
	msg.Header.Set(bus.HeaderFailedAt, rec.At.Format(time.RFC3339Nano))
	msg.Header.Set(jetstream.MsgIDHeader, j.id+"#"+strconv.Itoa(j.attempt)+"#dead")
	msg.Data = m.Data()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.o.Bus.JS.PublishMsg(pctx, msg); err != nil {
		return fmt.Errorf("dead-lettering: %w", err)
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
