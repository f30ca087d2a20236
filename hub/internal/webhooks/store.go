package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

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
	seal     *sealer
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
	// stale are the ids whose secrets are not sealed with the current key.
	stale map[string]bool
}

// OpenStore creates the bucket (idempotently) and loads what it holds. With
// cfg's secrets_key, it seals the webhooks' secrets, and writes again every
// webhook whose secrets are sealed with an older key or not at all.
func OpenStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, reg *Registry, cfg *config.Config, log zerolog.Logger) (*Store, error) {
	keys, err := cfg.SecretsKeys()
	if err != nil {
		return nil, fmt.Errorf("webhooks: secrets_key: %w", err)
	}
	seal, err := newSealer(keys)
	if err != nil {
		return nil, err
	}
	log = log.With().Str("component", "webhooks").Logger()
	if len(keys) == 0 {
		log.Warn().Msg("no secrets_key (HOOKHUB_SECRETS_KEY): the secrets of webhooks created through the API are stored in clear in the JetStream bucket " + bucket)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "webhooks created through the management API", Storage: jetstream.FileStorage, Replicas: max(1, replicas),
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: bucket %s: %w", bucket, err)
	}
	s := &Store{kv: kv, seal: seal, reg: reg, file: reg.Snapshot().All(), defaults: cfg.Delivery.Retry,
		log: log, runtime: map[string]config.Webhook{}, rev: map[string]uint64{}, stale: map[string]bool{}}
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
				if err := s.reseal(ctx); err != nil {
					_ = s.watch.Stop()
					return nil, err
				}
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
	delete(s.stale, e.Key())
	if e.Operation() == jetstream.KeyValuePut {
		if wh, stale, err := s.seal.decode(e.Key(), e.Value()); err == nil {
			s.runtime[e.Key()] = wh
			if stale {
				s.stale[e.Key()] = true
			}
		} else {
			s.log.Warn().Str("webhook", e.Key()).Str("reason", err.Error()).Msg("unreadable webhook in the bucket ignored")
		}
	} else {
		delete(s.runtime, e.Key())
	}
	return true
}

// reseal writes again, sealed with the current key, every webhook whose
// secrets are under an older key or in clear: what a restart with a new
// first key in secrets_key does. A webhook changed meanwhile by another hub
// is left to it (that write sealed it).
func (s *Store) reseal(ctx context.Context) error {
	s.mu.Lock()
	ids := make([]string, 0, len(s.stale))
	for id := range s.stale {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	sort.Strings(ids)
	n := 0
	for _, id := range ids {
		s.mu.Lock()
		w, rev := s.runtime[id], s.rev[id]
		s.mu.Unlock()
		b, err := s.seal.encode(w)
		if err != nil {
			return err
		}
		rev, err = s.kv.Update(ctx, id, b, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return fmt.Errorf("webhooks: sealing %s with the current secrets key: %w", id, err)
		}
		s.mu.Lock()
		if rev > s.rev[id] {
			s.rev[id] = rev
			delete(s.stale, id)
		}
		s.mu.Unlock()
		n++
	}
	if n > 0 {
		s.log.Info().Int("webhooks", n).Str("key", s.seal.current()).Msg("webhook secrets sealed with the current secrets key")
	}
	return nil
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
	b, err := s.seal.encode(w)
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
	b, err := s.seal.encode(w)
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
		delete(s.stale, w.ID)
	}
	s.mu.Unlock()
	s.rebuild()
}

// Delete removes a run-time webhook. It purges the key, so that the bucket
// keeps no revision of it. (The bytes of removed revisions stay in the
// bucket's files until JetStream compacts them: sealed with secrets_key, and
// encrypted again with the embedded server's store key.)
func (s *Store) Delete(ctx context.Context, id string) error {
	cur := s.reg.Get(id)
	switch {
	case cur == nil:
		return ErrNotFound
	case cur.ReadOnly:
		return ErrReadOnly
	}
	if err := s.kv.Purge(ctx, id); err != nil {
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
		if w, _, err := s.seal.decode(k, e.Value()); err == nil && w.Account == account {
			n++
		}
	}
	return n, nil
}
