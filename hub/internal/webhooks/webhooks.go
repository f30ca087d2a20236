// Package webhooks holds the hub's webhooks as an immutable, indexed snapshot
// that is swapped atomically when the set changes, so routing and delivery read
// it without locks.
package webhooks

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/signature"
)

// Webhook is a webhook ready for routing and delivery.
type Webhook struct {
	config.Webhook
	// Secrets sign each request: the current one first, then any still in
	// their rotation grace period.
	Secrets []signature.Secret
	// Schedule is the delay before each retry.
	Schedule []time.Duration
	Jitter   float64
	// ReadOnly webhooks come from the config file.
	ReadOnly bool
	// Endpoint is the parsed URL.
	Endpoint *url.URL

	previous []previous

	secretsOnce sync.Once
	secrets     []string // SecretValuesOnce's answer

	exact    map[string]bool
	prefixes []string // "email." for email.*
	all      bool
	// Exclusions (!email.opened, !email.*) take types out of the above.
	notExact    map[string]bool
	notPrefixes []string
}

// New prepares a webhook from its config; defaults comes from the delivery
// settings.
func New(w config.Webhook, defaults config.Retry, readOnly bool) (*Webhook, error) {
	s, err := signature.ParseSecret(w.Secret.Reveal())
	if err != nil {
		return nil, fmt.Errorf("webhook %s: secret: must be whsec_<base64>", w.ID)
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: url: %v", w.ID, err)
	}
	out := &Webhook{Webhook: w, Secrets: []signature.Secret{s}, ReadOnly: readOnly, Endpoint: u, exact: map[string]bool{}}
	r := defaults
	if w.Retry != nil {
		if w.Retry.Schedule != nil {
			r.Schedule = w.Retry.Schedule
		}
		if w.Retry.Jitter != nil {
			r.Jitter = w.Retry.Jitter
		}
	}
	if w.Batch != nil {
		b := *w.Batch
		if b.MaxEvents <= 0 {
			b.MaxEvents = config.DefaultBatchEvents
		}
		if b.MaxWait <= 0 {
			b.MaxWait = config.Duration(config.DefaultBatchWait)
		}
		out.Batch = &b
	}
	for _, p := range w.PreviousSecrets {
		ps, err := signature.ParseSecret(p.Secret.Reveal())
		if err != nil {
			return nil, fmt.Errorf("webhook %s: a previous secret: must be whsec_<base64>", w.ID)
		}
		out.previous = append(out.previous, previous{ps, p.Expires})
	}
	for _, d := range r.Schedule {
		out.Schedule = append(out.Schedule, d.D())
	}
	if r.Jitter != nil {
		out.Jitter = *r.Jitter
	}
	for _, e := range w.Events {
		if name, ok := strings.CutPrefix(e, "!"); ok {
			if p, ok := strings.CutSuffix(name, "*"); ok {
				out.notPrefixes = append(out.notPrefixes, p)
			} else {
				if out.notExact == nil {
					out.notExact = map[string]bool{}
				}
				out.notExact[name] = true
			}
			continue
		}
		switch {
		case e == "*":
			out.all = true
		case strings.HasSuffix(e, ".*"):
			out.prefixes = append(out.prefixes, strings.TrimSuffix(e, "*"))
		default:
			out.exact[e] = true
		}
	}
	return out, nil
}

type previous struct {
	secret  signature.Secret
	expires time.Time
}

// SigningSecrets are the secrets that sign a request at now: the current
// one, and rotated-out ones still in their grace period.
func (w *Webhook) SigningSecrets(now time.Time) []signature.Secret {
	if len(w.previous) == 0 {
		return w.Secrets
	}
	out := append([]signature.Secret(nil), w.Secrets...)
	for _, p := range w.previous {
		if now.Before(p.expires) {
			out = append(out, p.secret)
		}
	}
	return out
}

// SecretValuesOnce is config.Webhook.SecretValues with the fields its
// plugin's schema marks secret (pluginSecrets: nil for none), worked out
// once: a Webhook never changes, and deliveries scrub with them at every
// attempt.
func (w *Webhook) SecretValuesOnce(pluginSecrets func(plugin string) []config.FieldPath) []string {
	w.secretsOnce.Do(func() {
		var fields []config.FieldPath
		if w.Plugin != nil && pluginSecrets != nil {
			fields = pluginSecrets(w.Plugin.Name)
		}
		w.secrets = w.SecretValues(fields)
	})
	return w.secrets
}

// Attempts is the most attempts a job to this webhook gets.
func (w *Webhook) Attempts() int { return len(w.Schedule) + 1 }

// OperationalPrefix starts the types of the hub's own operational events,
// which only a webhook naming them (hookhub.* or an exact type) receives: *
// does not cover them.
const OperationalPrefix = "hookhub."

// WantsType reports whether the webhook subscribes to eventType: an
// inclusion names it and no exclusion does (exclusions win).
func (w *Webhook) WantsType(eventType string) bool {
	if w.notExact != nil || w.notPrefixes != nil {
		if w.notExact[eventType] {
			return false
		}
		for _, p := range w.notPrefixes {
			if strings.HasPrefix(eventType, p) {
				return false
			}
		}
	}
	if w.exact[eventType] {
		return true
	}
	if w.all && !strings.HasPrefix(eventType, OperationalPrefix) {
		return true
	}
	for _, p := range w.prefixes {
		if strings.HasPrefix(eventType, p) {
			return true
		}
	}
	return false
}

// Matches reports whether e is for this webhook: active, same account, a
// subscribed type, an accepted initiator, not an import it leaves out, and
// an accepted list.
func (w *Webhook) Matches(e *event.Event) bool {
	if !w.IsActive() || w.Account != e.Account || !w.WantsType(e.Type) {
		return false
	}
	if len(w.Initiators) > 0 && !slices.Contains(w.Initiators, e.Initiator) {
		return false
	}
	if w.ExcludeImports && e.Via == event.ViaImport {
		return false
	}
	if len(w.Lists) > 0 && !slices.ContainsFunc(w.Lists, e.HasList) {
		return false
	}
	return true
}

// Snapshot is an immutable set of webhooks indexed by id and by account and
// event type.
type Snapshot struct {
	byID      map[string]*Webhook
	byAccount map[string]*accountIndex
}

type accountIndex struct {
	exact map[string][]*Webhook // event type -> webhooks naming it exactly
	wild  []*Webhook            // webhooks with a wildcard
	all   []*Webhook
}

// NewSnapshot indexes ws.
func NewSnapshot(ws []*Webhook) *Snapshot {
	s := &Snapshot{byID: make(map[string]*Webhook, len(ws)), byAccount: map[string]*accountIndex{}}
	for _, w := range ws {
		s.byID[w.ID] = w
		ai := s.byAccount[w.Account]
		if ai == nil {
			ai = &accountIndex{exact: map[string][]*Webhook{}}
			s.byAccount[w.Account] = ai
		}
		ai.all = append(ai.all, w)
		if !w.IsActive() {
			continue
		}
		for t := range w.exact {
			ai.exact[t] = append(ai.exact[t], w)
		}
		if w.all || len(w.prefixes) > 0 {
			ai.wild = append(ai.wild, w)
		}
	}
	return s
}

// Get returns the webhook with id, or nil.
func (s *Snapshot) Get(id string) *Webhook { return s.byID[id] }

// Len is the number of webhooks.
func (s *Snapshot) Len() int { return len(s.byID) }

// Account returns the webhooks of an account.
func (s *Snapshot) Account(account string) []*Webhook {
	if ai := s.byAccount[account]; ai != nil {
		return ai.all
	}
	return nil
}

// All returns every webhook, in no particular order.
func (s *Snapshot) All() []*Webhook {
	out := make([]*Webhook, 0, len(s.byID))
	for _, w := range s.byID {
		out = append(out, w)
	}
	return out
}

// Match appends to dst the webhooks e is to be delivered to. Its cost grows
// with the webhooks of e's account that name e's type or a wildcard, not with
// all webhooks.
func (s *Snapshot) Match(e *event.Event, dst []*Webhook) []*Webhook {
	ai := s.byAccount[e.Account]
	if ai == nil {
		return dst
	}
	for _, w := range ai.exact[e.Type] {
		if w.Matches(e) {
			dst = append(dst, w)
		}
	}
	for _, w := range ai.wild {
		if !w.exact[e.Type] && w.Matches(e) { // not counted twice
			dst = append(dst, w)
		}
	}
	return dst
}

// Ordered reports whether the webhook gets each key's events in publish order.
func (w *Webhook) Ordered() bool { return w.Ordering != nil && w.Batch == nil }

// OrderKey is e's key for an ordered webhook: the value at its ordering key
// (a data.<field>... path, or an envelope attribute), "" when e has none.
func (w *Webhook) OrderKey(e *event.Event) string {
	if w.Ordering == nil {
		return ""
	}
	switch k := w.Ordering.Key; k {
	case "id":
		return e.ID
	case "type":
		return e.Type
	case "source":
		return e.Source
	case "subject":
		return e.Subject
	case "account":
		return e.Account
	case "initiator":
		return e.Initiator
	default:
		path, ok := strings.CutPrefix(k, "data.")
		if !ok {
			return ""
		}
		r := gjson.GetBytes(e.Data, path)
		if r.Type == gjson.String {
			return r.Str
		}
		return r.Raw
	}
}
