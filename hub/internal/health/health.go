// Package health keeps each webhook's health across hub processes: when it
// last succeeded, since when it has been failing, whether the hub disabled
// it. State changes (not every delivery) are written to a JetStream KV
// bucket that every process watches, and each change publishes an
// operational event (hookhub.webhook.disabled, hookhub.attempt.exhausted,
// hookhub.webhook.recovered) that an ops webhook can subscribe to.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// DefaultDisableAfter is how long a webhook may fail without a single
// success before the hub disables it (as Svix).
const DefaultDisableAfter = 5 * 24 * time.Hour

// Operational event types.
const (
	EventDisabled  = "hookhub.webhook.disabled"
	EventExhausted = "hookhub.attempt.exhausted"
	EventRecovered = "hookhub.webhook.recovered"
)

// State is one webhook's health.
type State struct {
	LastSuccess  *time.Time `json:"last_success,omitempty"`
	FailingSince *time.Time `json:"failing_since,omitempty"` // first failure since the last success
	Exhausted    int        `json:"exhausted,omitempty"`     // jobs dead-lettered since the last success
	Disabled     bool       `json:"disabled,omitempty"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

// Tracker follows the health of every webhook.
type Tracker struct {
	bus          *bus.Bus
	kv           jetstream.KeyValue
	log          zerolog.Logger
	disableAfter time.Duration

	mu     sync.RWMutex
	states map[string]State
	// lastOK is each webhook's last success on this process, exact: the
	// bucket is written at most once a minute on success alone.
	lastOK map[string]time.Time
}

// Open creates the bucket (idempotently) and loads the current states.
func Open(ctx context.Context, b *bus.Bus, disableAfter time.Duration, log zerolog.Logger) (*Tracker, error) {
	if disableAfter <= 0 {
		disableAfter = DefaultDisableAfter
	}
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: b.Names.Prefix + "_health", Description: "webhook health: failing since, disabled", Storage: jetstream.FileStorage,
		Replicas: b.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("health: bucket: %w", err)
	}
	t := &Tracker{bus: b, kv: kv, log: log.With().Str("component", "health").Logger(), disableAfter: disableAfter, states: map[string]State{}, lastOK: map[string]time.Time{}}
	return t, nil
}

// Run keeps the states in step with the bucket until ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	w, err := t.kv.WatchAll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("health: watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil {
				continue // the initial values are in
			}
			t.mu.Lock()
			if e.Operation() != jetstream.KeyValuePut {
				delete(t.states, e.Key())
				delete(t.lastOK, e.Key())
			} else {
				var s State
				if json.Unmarshal(e.Value(), &s) == nil {
					t.states[e.Key()] = s
				}
			}
			t.mu.Unlock()
		}
	}
}

// Get returns a webhook's state.
func (t *Tracker) Get(webhook string) State {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.states[webhook]
}

// LastSuccess is when the webhook last had a delivery go through: the later
// of the shared state and this process's own last success (nil: never).
// The webhook's view and its stats both show this one value.
func (t *Tracker) LastSuccess(webhook string) *time.Time {
	t.mu.RLock()
	defer t.mu.RUnlock()
	last := t.states[webhook].LastSuccess
	if at, ok := t.lastOK[webhook]; ok && (last == nil || at.After(*last)) {
		last = &at
	}
	return last
}

// Disabled reports whether the hub disabled the webhook, and why.
func (t *Tracker) Disabled(webhook string) (bool, string) {
	s := t.Get(webhook)
	return s.Disabled, s.Reason
}

// Succeeded records a delivery that went through.
func (t *Tracker) Succeeded(ctx context.Context, account, webhook string) {
	now := time.Now().UTC()
	t.mu.Lock()
	t.lastOK[webhook] = now
	t.mu.Unlock()
	s := t.Get(webhook)
	if s.FailingSince == nil && s.Exhausted == 0 && s.LastSuccess != nil && time.Since(*s.LastSuccess) < time.Minute {
		return // nothing changed worth a write
	}
	wasExhausted := s.Exhausted > 0
	s.LastSuccess, s.FailingSince, s.Exhausted = &now, nil, 0
	t.put(ctx, webhook, s)
	if wasExhausted {
		t.publish(ctx, account, webhook, EventRecovered, "delivered again after failures")
	}
}

// Failed records a failed attempt; status 410 disables the webhook at once,
// and so does failing for longer than the disable-after span. It reports
// whether the webhook is now disabled.
func (t *Tracker) Failed(ctx context.Context, account, webhook string, status int) bool {
	s := t.Get(webhook)
	if s.Disabled {
		return true
	}
	now := time.Now().UTC()
	changed := false
	if s.FailingSince == nil {
		s.FailingSince, changed = &now, true
	}
	reason := ""
	switch {
	case status == 410:
		reason = "the receiver answered 410 Gone"
	case now.Sub(*s.FailingSince) > t.disableAfter:
		reason = fmt.Sprintf("no successful delivery since %s (more than %s)", s.FailingSince.Format(time.RFC3339), t.disableAfter)
	}
	if reason != "" {
		s.Disabled, s.DisabledAt, s.Reason, changed = true, &now, reason, true
	}
	if changed {
		t.put(ctx, webhook, s)
	}
	if s.Disabled {
		t.log.Warn().Str("webhook", webhook).Str("reason", reason).Msg("webhook disabled")
		t.publish(ctx, account, webhook, EventDisabled, reason)
	}
	return s.Disabled
}

// Exhausted records a job that went to the dead letters.
func (t *Tracker) Exhausted(ctx context.Context, account, webhook, reason string) {
	s := t.Get(webhook)
	s.Exhausted++
	t.put(ctx, webhook, s)
	t.publish(ctx, account, webhook, EventExhausted, reason)
}

// Enable clears a disabled webhook; its failing span starts again.
func (t *Tracker) Enable(ctx context.Context, webhook string) error {
	s := t.Get(webhook)
	s.Disabled, s.DisabledAt, s.Reason, s.FailingSince = false, nil, "", nil
	return t.put(ctx, webhook, s)
}

func (t *Tracker) put(ctx context.Context, webhook string, s State) error {
	t.mu.Lock()
	t.states[webhook] = s
	t.mu.Unlock()
	b, _ := json.Marshal(s)
	if _, err := t.kv.Put(ctx, webhook, b); err != nil {
		t.log.Warn().Err(err).Str("webhook", webhook).Msg("storing webhook health failed")
		return err
	}
	return nil
}

// publish sends an operational event into the hub's own events, so that a
// webhook subscribed to hookhub.* receives it like any other event.
func (t *Tracker) publish(ctx context.Context, account, webhook, typ, reason string) {
	if account == "" {
		return
	}
	now := time.Now().UTC()
	data, _ := json.Marshal(map[string]any{"webhook": webhook, "account": account, "reason": reason, "time": now})
	id := fmt.Sprintf("hh_%s_%s_%d", typ, webhook, now.UnixNano())
	e := event.Event{SpecVersion: event.SpecVersion, ID: id, Source: "hookhub", Type: typ, Time: &now,
		DataContentType: "application/json", Account: account, Initiator: event.InitiatorSystem, Data: data}
	raw, _ := json.Marshal(e)
	// On the hub's own subject: the router accepts hookhub.* types there
	// only, and no account's publish permission covers it.
	m := nats.NewMsg(t.bus.Names.Operational(account, typ))
	m.Header.Set(jetstream.MsgIDHeader, publish.MsgID(account, id))
	m.Data = raw
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := t.bus.JS.PublishMsg(pctx, m); err != nil && !errors.Is(err, context.Canceled) {
		t.log.Warn().Err(err).Str("type", typ).Msg("publishing an operational event failed")
	}
}
