package eventtypes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/schemas"
)

// Store keeps the types declared through the management API in a KV
// bucket, shared by every hub on the NATS, and keeps the registry's view
// of them current: key hub.<type> for the whole hub, account.<account>.<type>
// for one account.
type Store struct {
	kv    jetstream.KeyValue
	reg   *Registry
	log   zerolog.Logger
	watch jetstream.KeyWatcher

	mu  sync.Mutex
	rev map[string]uint64 // last revision applied, by key
}

// Stored is a declaration as the bucket holds it.
type Stored struct {
	Account string           `json:"account,omitempty"`
	Type    config.EventType `json:"type"`
}

// OpenStore creates the bucket if needed and loads it into reg.
func OpenStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, reg *Registry, log zerolog.Logger) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "event types declared through the management API", Storage: jetstream.FileStorage, Replicas: max(1, replicas),
	})
	if err != nil {
		return nil, fmt.Errorf("event types: bucket %s: %w", bucket, err)
	}
	s := &Store{kv: kv, reg: reg, log: log.With().Str("component", "eventtypes").Logger(), rev: map[string]uint64{}}
	s.watch, err = kv.WatchAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("event types: watch: %w", err)
	}
	for {
		select {
		case e := <-s.watch.Updates():
			if e == nil {
				return s, nil
			}
			s.apply(e)
		case <-ctx.Done():
			_ = s.watch.Stop()
			return nil, fmt.Errorf("event types: loading the bucket: %w", ctx.Err())
		}
	}
}

// Run applies the bucket's changes, made by this hub or another, until ctx
// is done.
func (s *Store) Run(ctx context.Context) error {
	defer func() { _ = s.watch.Stop() }()
	for {
		select {
		case e, ok := <-s.watch.Updates():
			if !ok {
				return nil
			}
			if e != nil {
				s.apply(e)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// Key is the bucket key of eventType declared for account ("" for the hub).
func Key(account, eventType string) string {
	if account == "" {
		return "hub." + eventType
	}
	return "account." + account + "." + eventType
}

func parseKey(k string) (account, eventType string, ok bool) {
	if t, ok := strings.CutPrefix(k, "hub."); ok {
		return "", t, true
	}
	rest, ok := strings.CutPrefix(k, "account.")
	if !ok {
		return "", "", false
	}
	account, eventType, ok = strings.Cut(rest, ".")
	return account, eventType, ok
}

// apply records one bucket entry in the registry.
func (s *Store) apply(e jetstream.KeyValueEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Revision() <= s.rev[e.Key()] {
		return
	}
	s.rev[e.Key()] = e.Revision()
	account, typ, ok := parseKey(e.Key())
	if !ok {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		s.set(account, typ, nil)
		return
	}
	var st Stored
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		s.log.Warn().Str("key", e.Key()).Msg("a declared event type in the bucket cannot be read; ignored")
		return
	}
	sch, err := compile(account, st.Type)
	if err != nil {
		s.log.Warn().Str("key", e.Key()).Msg("a declared event type's schema in the bucket does not compile; ignored")
		return
	}
	s.set(account, typ, &declared{st.Type.Catalog(account), sch})
}

// set swaps in the registry's API view with account's eventType set to d
// (removed when nil). s.mu is held.
func (s *Store) set(account, eventType string, d *declared) {
	old := *s.reg.api.Load()
	m := maps.Clone(old)
	ts := maps.Clone(m[account])
	if ts == nil {
		ts = map[string]declared{}
	}
	if d == nil {
		delete(ts, eventType)
	} else {
		ts[eventType] = *d
	}
	m[account] = ts
	s.reg.api.Store(&m)
}

func compile(account string, t config.EventType) (*jsonschema.Schema, error) {
	return schemacheck.CompileSelfContained(schemas.BaseURL+"declared/"+account+"/"+t.Type+".schema.json", t.Schema)
}

// ErrInConfig: the config file declares the type; the API cannot change it.
var ErrInConfig = errors.New("declared in the config file")

// Put declares t for account ("" for the hub), or replaces the API's
// declaration of it. The caller has checked t (config.CheckEventType).
func (s *Store) Put(ctx context.Context, account string, t config.EventType) error {
	if s.reg.InConfig(account, t.Type) {
		return ErrInConfig
	}
	b, err := json.Marshal(Stored{Account: account, Type: t})
	if err != nil {
		return err
	}
	rev, err := s.kv.Put(ctx, Key(account, t.Type), b)
	if err != nil {
		return err
	}
	sch, err := compile(account, t)
	if err != nil {
		return err
	}
	// Seen at once by this hub's next request; the watcher brings it to
	// the others (and here again, ignored by its revision).
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev > s.rev[Key(account, t.Type)] {
		s.rev[Key(account, t.Type)] = rev
		s.set(account, t.Type, &declared{t.Catalog(account), sch})
	}
	return nil
}

// Delete removes the API's declaration of eventType for account; found is
// false when there was none.
func (s *Store) Delete(ctx context.Context, account, eventType string) (found bool, err error) {
	if s.reg.InConfig(account, eventType) {
		return true, ErrInConfig
	}
	if _, ok := (*s.reg.api.Load())[account][eventType]; !ok {
		return false, nil
	}
	if err := s.kv.Purge(ctx, Key(account, eventType)); err != nil {
		return true, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(account, eventType, nil)
	return true, nil
}
