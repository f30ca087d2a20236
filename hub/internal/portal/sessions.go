package portal

// Sessions of the operator console and of the account portal, shared by
// every hub on the NATS (issue 12): behind a load balancer each request of
// one browser may reach another hub.
//
// A session's record is kept in a JetStream KV bucket under the SHA-256 of
// its id (the cookie's value, never stored). It holds no secret that opens
// anything: the scope, the portal and read-only flags, the CSRF token of its
// forms, its expiry, and the SHA-256 of the API token it signed in with. The
// token a session calls the API with is read from the hub's config on each
// request by whoever holds the record (the console), so a bucket reader
// learns no token, and a record whose token has since been rotated opens
// nothing.
//
// Each hub keeps the records it read for SessionCacheFor, so that a page
// costs no KV round trip; the expiry is checked on every read, cached or
// not. A sign-out on one hub therefore ends the session on every other hub
// within SessionCacheFor, and on its own hub at once.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SessionCacheFor is how long a hub trusts a session record it read from
// the bucket before reading it again: the bound on how late a sign-out made
// on another hub takes effect here.
const SessionCacheFor = 2 * time.Second

// maxLocalSessions bounds the records one hub holds in memory (its cache,
// or, without a bucket, all of its sessions); past it the soonest to expire
// goes. sessionBucketBytes bounds the bucket.
const (
	maxLocalSessions   = 10000
	sessionBucketBytes = 64 << 20
)

// ErrNoSession is the answer for an id with no live session: never made,
// signed out, or expired.
var ErrNoSession = errors.New("portal: no such session")

// Session is a session's record, as the bucket holds it.
type Session struct {
	// Scope is the account a session is limited to; "" for the operator.
	Scope    string    `json:"scope,omitempty"`
	Portal   bool      `json:"portal,omitempty"`
	ReadOnly bool      `json:"read_only,omitempty"`
	CSRF     string    `json:"csrf"`
	Expires  time.Time `json:"expires"`
	// TokenSum is the hex SHA-256 of the API token the session signed in
	// with ("" for a portal session, which calls as its account's scope).
	TokenSum string `json:"token_sha256,omitempty"`
}

// Sessions are the console's and the portal's sessions.
type Sessions struct {
	kv       jetstream.KeyValue // nil: in this process's memory only
	cacheFor time.Duration

	mu    sync.Mutex
	local map[string]localSession // by key(id)
}

type localSession struct {
	s    Session
	read time.Time // when it was read from the bucket
}

// OpenSessions creates the bucket if needed; ttl is the longest lifetime
// of a session, after which the bucket drops its record whatever happened.
func OpenSessions(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, ttl time.Duration) (*Sessions, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "console and portal sessions, by the SHA-256 of their id; no token",
		Storage: jetstream.FileStorage, Replicas: max(1, replicas), TTL: ttl, MaxBytes: sessionBucketBytes, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("portal: bucket %s: %w", bucket, err)
	}
	return &Sessions{kv: kv, cacheFor: SessionCacheFor, local: map[string]localSession{}}, nil
}

// MemorySessions keeps sessions in this process's memory only: for a
// console without NATS (tests). A browser must then stay on one process.
func MemorySessions() *Sessions { return &Sessions{local: map[string]localSession{}} }

// Create stores s and returns the new session's id: 32 random bytes,
// base64url, for the cookie only.
func (ss *Sessions) Create(ctx context.Context, s Session) (string, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	s.Expires = s.Expires.UTC()
	if ss.kv != nil {
		raw, _ := json.Marshal(s)
		if _, err := ss.kv.Create(ctx, key(id), raw); err != nil {
			return "", fmt.Errorf("portal: storing a session: %w", err)
		}
	}
	ss.remember(key(id), s)
	return id, nil
}

// Get is the live session of id, or ErrNoSession; another error means the
// bucket could not be read.
func (ss *Sessions) Get(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, ErrNoSession
	}
	k := key(id)
	now := time.Now()
	ss.mu.Lock()
	l, ok := ss.local[k]
	ss.mu.Unlock()
	if !ok || (ss.kv != nil && now.Sub(l.read) >= ss.cacheFor) {
		if ss.kv == nil {
			return Session{}, ErrNoSession
		}
		e, err := ss.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			ss.forget(k)
			return Session{}, ErrNoSession
		}
		if err != nil {
			return Session{}, fmt.Errorf("portal: reading a session: %w", err)
		}
		if err := json.Unmarshal(e.Value(), &l.s); err != nil {
			return Session{}, fmt.Errorf("portal: reading a session: %w", err)
		}
		ss.remember(k, l.s)
	}
	if now.After(l.s.Expires) {
		ss.delete(ctx, k)
		return Session{}, ErrNoSession
	}
	return l.s, nil
}

// Delete ends the session of id on every hub (on the others within
// SessionCacheFor).
func (ss *Sessions) Delete(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return ss.delete(ctx, key(id))
}

func (ss *Sessions) delete(ctx context.Context, k string) error {
	ss.forget(k)
	if ss.kv == nil {
		return nil
	}
	if err := ss.kv.Delete(ctx, k); err != nil {
		return fmt.Errorf("portal: ending a session: %w", err)
	}
	return nil
}

func (ss *Sessions) forget(k string) {
	ss.mu.Lock()
	delete(ss.local, k)
	ss.mu.Unlock()
}

func (ss *Sessions) remember(k string, s Session) {
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.local[k]; !ok && len(ss.local) >= maxLocalSessions {
		for k2, l := range ss.local {
			if now.After(l.s.Expires) {
				delete(ss.local, k2)
			}
		}
		if len(ss.local) >= maxLocalSessions {
			var soonest string
			for k2, l := range ss.local {
				if soonest == "" || l.s.Expires.Before(ss.local[soonest].s.Expires) {
					soonest = k2
				}
			}
			delete(ss.local, soonest)
		}
	}
	ss.local[k] = localSession{s: s, read: now}
}
