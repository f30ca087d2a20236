// Package portal holds the account portal's sign-in links and the scope a
// portal session's API calls run with.
//
// A link is a random single-use token of 32 bytes. The hub keeps only its
// SHA-256 digest, with the account, the read-only flag and the expiry, in
// the memory of the hub that made it: a link is redeemed at the hub that
// issued it, as the console's sessions live in the hub that opened them
// (behind a load balancer, pin a browser to one hub; the platform's API call
// and the browser must reach the same hub). Links live minutes and are
// worthless once used, so losing them on a restart costs a new link only.
package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// Lifetimes of a link.
const (
	DefaultLifetime = 5 * time.Minute
	MaxLifetime     = time.Hour
)

// EnterPath is where a link is redeemed; the token is its t parameter.
const EnterPath = "/portal/enter"

// maxLinks bounds the links held; past it the oldest goes.
const maxLinks = 10000

// Errors of Redeem.
var (
	ErrUnknown = errors.New("portal: no such sign-in link")
	ErrUsed    = errors.New("portal: the sign-in link was used already")
	ErrExpired = errors.New("portal: the sign-in link has expired")
)

// Link is what a sign-in link opens.
type Link struct {
	Account  string
	ReadOnly bool
	Expires  time.Time
	used     bool
}

// Links are the sign-in links a hub issued.
type Links struct {
	mu    sync.Mutex
	links map[[32]byte]*Link
}

// NewLinks makes an empty set.
func NewLinks() *Links { return &Links{links: map[[32]byte]*Link{}} }

// Issue makes a link to account's portal that lasts ttl, and returns its
// token: shown once, kept only as a digest.
func (l *Links) Issue(account string, ttl time.Duration, readOnly bool) (token string, expires time.Time) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	expires = time.Now().Add(ttl)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep()
	l.links[sha256.Sum256([]byte(token))] = &Link{Account: account, ReadOnly: readOnly, Expires: expires}
	return token, expires
}

// Redeem uses a link once: a second use is ErrUsed, a late one ErrExpired.
func (l *Links) Redeem(token string) (Link, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.links[sha256.Sum256([]byte(token))]
	switch {
	case k == nil:
		return Link{}, ErrUnknown
	case k.used:
		return Link{}, ErrUsed
	case time.Now().After(k.Expires):
		return Link{}, ErrExpired
	}
	k.used = true // kept until it expires, to tell a reuse from a forgery
	return *k, nil
}

// sweep drops expired links, and the oldest past maxLinks. l.mu is held.
func (l *Links) sweep() {
	now := time.Now()
	for h, k := range l.links {
		if now.After(k.Expires) {
			delete(l.links, h)
		}
	}
	for len(l.links) >= maxLinks {
		var oldest [32]byte
		var at time.Time
		for h, k := range l.links {
			if at.IsZero() || k.Expires.Before(at) {
				oldest, at = h, k.Expires
			}
		}
		delete(l.links, oldest)
	}
}

type scopeKey struct{}

type scope struct {
	account  string
	readOnly bool
}

// WithScope marks an in-process API call as a portal session's: the API
// runs it as account's token would, and refuses changes when readOnly. Only
// code in the hub's process can set it; no HTTP request carries it.
func WithScope(ctx context.Context, account string, readOnly bool) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope{account, readOnly})
}

// Scope reads what WithScope set.
func Scope(ctx context.Context) (account string, readOnly, ok bool) {
	s, ok := ctx.Value(scopeKey{}).(scope)
	return s.account, s.readOnly, ok && s.account != ""
}
