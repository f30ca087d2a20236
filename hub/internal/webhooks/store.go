package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
)

// ErrNotFound is returned for a webhook id that does not exist.
var ErrNotFound = errors.New("webhook not found")

// ErrReadOnly is returned for changes to a webhook from the config file.
var ErrReadOnly = errors.New("webhook comes from the config file and is read-only")

// ErrExists is returned by Create for an id already taken, here or by
// another hub process.
var ErrExists = errors.New("a webhook with this id exists")

// ErrConflict is returned by Update when the webhook changed meanwhile (on
// another hub process, or it was deleted): read it again and retry.
var ErrConflict = errors.New("webhook changed meanwhile")

// Store keeps the webhooks created at run time in a JetStream KV bucket and
// merges them with the config file's into the registry's snapshot. Every hub
// process watches the bucket, so a change applies on all of them.
type Store struct {
	kv       jetstream.KeyValue
	reg      *Registry
	file     []*Webhook
	defaults config.Retry
	log      zerolog.Logger

	watch jetstream.KeyWatcher

	mu      sync.Mutex
	runtime map[string]config.Webhook
	// rev is the bucket revision last applied per id (deletes too), so that
	// a watcher entry older than a write this process made is not applied
	// over it.
	rev map[string]uint64
}

// stored is a webhook as the bucket holds it: config.Webhook with its
// secrets in the clear (config.Secret marshals as [redacted] everywhere else).
type stored struct {
	config.Webhook
	SecretValue    string           `json:"secret_value"`
	PasswordValue  string           `json:"password_value,omitempty"`
	TokenValue     string           `json:"token_value,omitempty"`
	ClientSecret   string           `json:"client_secret_value,omitempty"`
	KeyPEMValue    string           `json:"key_pem_value,omitempty"`
	PreviousValues []previousStored `json:"previous_values,omitempty"`
}

type previousStored struct {
	Secret  string    `json:"secret"`
	Expires time.Time `json:"expires"`
}

func encode(w config.Webhook) ([]byte, error) {
	s := stored{Webhook: w, SecretValue: w.Secret.Reveal()}
	if w.Auth != nil {
		s.PasswordValue, s.TokenValue = w.Auth.Password.Reveal(), w.Auth.Token.Reveal()
		s.ClientSecret = w.Auth.ClientSecret.Reveal()
	}
	if w.TLSClient != nil {
		s.KeyPEMValue = w.TLSClient.KeyPEM.Reveal()
	}
	for _, p := range w.PreviousSecrets {
		s.PreviousValues = append(s.PreviousValues, previousStored{p.Secret.Reveal(), p.Expires})
	}
	return json.Marshal(s)
}

func decode(b []byte) (config.Webhook, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return config.Webhook{}, err
	}
	w := s.Webhook
	w.Secret = config.Secret(s.SecretValue)
	if w.Auth != nil {
		a := *w.Auth
		a.Password, a.Token = config.Secret(s.PasswordValue), config.Secret(s.TokenValue)
		a.ClientSecret = config.Secret(s.ClientSecret)
		w.Auth = &a
	}
	if w.TLSClient != nil {
		tc := *w.TLSClient
		tc.KeyPEM = config.Secret(s.KeyPEMValue)
		w.TLSClient = &tc
	}
	w.PreviousSecrets = nil
	for _, p := range s.PreviousValues {
		w.PreviousSecrets = append(w.PreviousSecrets, config.PreviousSecret{Secret: config.Secret(p.Secret), Expires: p.Expires})
	}
	return w, nil
}

// OpenStore creates the bucket (idempotently) and loads what it holds.
func OpenStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, reg *Registry, cfg *config.Config, log zerolog.Logger) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "webhooks created through the management API", Storage: jetstream.FileStorage, Replicas: max(1, replicas),
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: bucket %s: %w", bucket, err)
	}
	s := &Store{kv: kv, reg: reg, file: reg.Snapshot().All(), defaults: cfg.Delivery.Retry,
		log: log.With().Str("component", "webhooks").Logger(), runtime: map[string]config.Webhook{}, rev: map[string]uint64{}}
	// Watch from now on, so that no change between loading and running is
	// missed: the watcher first gives the current values, then a nil.
	s.watch, err = kv.WatchAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("webhooks: watch: %w", err)
	}
	for {
		select {
		case e := <-s.watch.Updates():
			if e == nil {
				s.rebuild()
				return s, nil
			}
			s.apply(e)
		case <-ctx.Done():
			_ = s.watch.Stop()
			return nil, fmt.Errorf("webhooks: loading the bucket: %w", ctx.Err())
		}
	}
}

// apply records a bucket entry; it reports false for one older than what
// this process already applied.
func (s *Store) apply(e jetstream.KeyValueEntry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Revision() <= s.rev[e.Key()] {
		return false
	}
	s.rev[e.Key()] = e.Revision()
	if e.Operation() == jetstream.KeyValuePut {
		if wh, err := decode(e.Value()); err == nil {
			s.runtime[e.Key()] = wh
		} else {
			s.log.Warn().Str("webhook", e.Key()).Msg("unreadable webhook in the bucket ignored")
		}
	} else {
		delete(s.runtime, e.Key())
	}
	return true
}

// Run applies the bucket's changes, made by any hub process, until ctx ends.
func (s *Store) Run(ctx context.Context) error {
	defer func() { _ = s.watch.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-s.watch.Updates():
			if !ok {
				return nil
			}
			if e != nil && s.apply(e) {
				s.rebuild()
			}
		}
	}
}

// rebuild swaps in a snapshot of the file's webhooks and the bucket's.
func (s *Store) rebuild() {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append([]*Webhook(nil), s.file...)
	fromFile := make(map[string]bool, len(s.file))
	for _, w := range s.file {
		fromFile[w.ID] = true
	}
	ids := make([]string, 0, len(s.runtime))
	for id := range s.runtime {
		if fromFile[id] { // the config file wins over an older run-time webhook of the same id
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		w, err := New(s.runtime[id], s.defaults, false)
		if err != nil {
			s.log.Warn().Err(err).Str("webhook", id).Msg("webhook in the bucket ignored")
			continue
		}
		all = append(all, w)
	}
	s.reg.Replace(NewSnapshot(all))
}

// Create stores a new run-time webhook, and applies it here at once. The
// caller has validated it. An id taken, by the config file or in the bucket
// (by any hub process, even one this process has not heard from yet), is
// ErrExists.
func (s *Store) Create(ctx context.Context, w config.Webhook) error {
	if cur := s.reg.Get(w.ID); cur != nil {
		return ErrExists
	}
	b, err := encode(w)
	if err != nil {
		return err
	}
	rev, err := s.kv.Create(ctx, w.ID, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("webhooks: store %s: %w", w.ID, err)
	}
	s.applied(w, rev)
	return nil
}

// Update replaces a run-time webhook, and applies it here at once. The
// caller has validated it. It writes only over the revision this process
// knows, so a change made meanwhile elsewhere (or a delete) is never lost
// silently: that is ErrConflict.
func (s *Store) Update(ctx context.Context, w config.Webhook) error {
	cur := s.reg.Get(w.ID)
	switch {
	case cur == nil:
		return ErrNotFound
	case cur.ReadOnly:
		return ErrReadOnly
	}
	s.mu.Lock()
	_, known := s.runtime[w.ID]
	rev := s.rev[w.ID]
	s.mu.Unlock()
	if !known {
		return ErrNotFound
	}
	b, err := encode(w)
	if err != nil {
		return err
	}
	rev, err = s.kv.Update(ctx, w.ID, b, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("webhooks: store %s: %w", w.ID, err)
	}
	s.applied(w, rev)
	return nil
}

// applied records a write of this process at revision rev and rebuilds.
func (s *Store) applied(w config.Webhook, rev uint64) {
	s.mu.Lock()
	if rev > s.rev[w.ID] {
		s.rev[w.ID] = rev
		s.runtime[w.ID] = w
	}
	s.mu.Unlock()
	s.rebuild()
}

// Delete removes a run-time webhook.
func (s *Store) Delete(ctx context.Context, id string) error {
	cur := s.reg.Get(id)
	switch {
	case cur == nil:
		return ErrNotFound
	case cur.ReadOnly:
		return ErrReadOnly
	}
	if err := s.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("webhooks: delete %s: %w", id, err)
	}
	s.mu.Lock()
	delete(s.runtime, id)
	s.mu.Unlock()
	s.rebuild()
	return nil
}

// Count is how many webhooks an account has, read from the bucket itself
// (not this hub's view of it) plus the config file's.
func (s *Store) Count(ctx context.Context, account string) (int, error) {
	n := 0
	for _, w := range s.file {
		if w.Account == account {
			n++
		}
	}
	keys, err := s.kv.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return n, nil
		}
		return 0, err
	}
	for k := range keys.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		if w, err := decode(e.Value()); err == nil && w.Account == account {
			n++
		}
	}
	return n, nil
}
