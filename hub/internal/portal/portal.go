// Package portal holds the account portal's sign-in links and the scope a
// portal session's API calls run with.
//
// A link is a random single-use token of 32 bytes. The hub keeps only its
// SHA-256 digest, with the account, the read-only flag and the expiry, in a
// JetStream KV bucket shared by every hub on the NATS: the platform's API
// call and the browser's redemption may reach different hubs behind a load
// balancer, and a link is used once across all of them (the redemption is a
// compare-and-set on the key's revision). The session a link opens is a
// Sessions record (sessions.go), in a bucket shared by every hub as well.
package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lifetimes of a link.
const (
	DefaultLifetime = 5 * time.Minute
	MaxLifetime     = time.Hour
)

// EnterPath is where a link is redeemed; the token is its t parameter.
const EnterPath = "/portal/enter"

// bucketTTL keeps a used link's record past its expiry (so that a reuse is
// told from a forgery) and then drops it; maxBucketBytes bounds the bucket.
const (
	bucketTTL      = MaxLifetime + time.Hour
	maxBucketBytes = 64 << 20
)

// Errors of Redeem.
var (
	ErrUnknown = errors.New("portal: no such sign-in link")
	ErrUsed    = errors.New("portal: the sign-in link was used already")
	ErrExpired = errors.New("portal: the sign-in link has expired")
)

// Link is what a sign-in link opens.
type Link struct {
	Account  string    `json:"account"`
	ReadOnly bool      `json:"read_only,omitempty"`
	Expires  time.Time `json:"expires"`
	Used     bool      `json:"used,omitempty"`
	// Console: a sign-in link of the operator console (IssueConsole), not
	// of an account's portal; each side refuses the other's links.
	Console bool `json:"console,omitempty"`
}

// Links are the sign-in links, in a KV bucket.
type Links struct{ kv jetstream.KeyValue }

// OpenLinks creates the bucket if needed.
func OpenLinks(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*Links, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "the account portal's sign-in links, by the SHA-256 of their token",
		Storage: jetstream.FileStorage, Replicas: max(1, replicas), TTL: bucketTTL, MaxBytes: maxBucketBytes, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("portal: bucket %s: %w", bucket, err)
	}
	return &Links{kv: kv}, nil
}

func key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Issue makes a link to account's portal that lasts ttl, and returns its
// token: shown once, kept only as a digest.
func (l *Links) Issue(ctx context.Context, account string, ttl time.Duration, readOnly bool) (token string, expires time.Time, err error) {
	return l.issue(ctx, Link{Account: account, ReadOnly: readOnly}, ttl)
}

// IssueConsole makes a single-use sign-in link of the operator console
// that lasts ttl (the demo prints one). Redeem gives it with Console set.
func (l *Links) IssueConsole(ctx context.Context, ttl time.Duration) (token string, expires time.Time, err error) {
	return l.issue(ctx, Link{Console: true}, ttl)
}

func (l *Links) issue(ctx context.Context, k Link, ttl time.Duration) (token string, expires time.Time, err error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	k.Expires = time.Now().Add(ttl).UTC()
	raw, _ := json.Marshal(k)
	if _, err := l.kv.Create(ctx, key(token), raw); err != nil {
		return "", time.Time{}, fmt.Errorf("portal: storing a link: %w", err)
	}
	return token, k.Expires, nil
}

// Check tells what a link would open, and the error Redeem would give,
// without using it: the page a link opens (GET) checks, and only its
// button (POST) redeems, so that a chat's link previewer spends nothing.
func (l *Links) Check(ctx context.Context, token string) (Link, error) {
	k, _, err := l.read(ctx, token)
	return k, err
}

// read is the link of token, and its KV entry, or the error Redeem gives.
func (l *Links) read(ctx context.Context, token string) (Link, jetstream.KeyValueEntry, error) {
	if token == "" {
		return Link{}, nil, ErrUnknown
	}
	e, err := l.kv.Get(ctx, key(token))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Link{}, nil, ErrUnknown
	}
	if err != nil {
		return Link{}, nil, fmt.Errorf("portal: reading a link: %w", err)
	}
	var k Link
	if err := json.Unmarshal(e.Value(), &k); err != nil {
		return Link{}, nil, fmt.Errorf("portal: reading a link: %w", err)
	}
	switch {
	case k.Used:
		return Link{}, nil, ErrUsed
	case time.Now().After(k.Expires):
		return Link{}, nil, ErrExpired
	}
	return k, e, nil
}

// Redeem uses a link once, on whichever hub: a second use is ErrUsed, a
// late one ErrExpired, a token never issued ErrUnknown.
func (l *Links) Redeem(ctx context.Context, token string) (Link, error) {
	k, e, err := l.read(ctx, token)
	if err != nil {
		return Link{}, err
	}
	k.Used = true
	raw, _ := json.Marshal(k)
	if _, err := l.kv.Update(ctx, key(token), raw, e.Revision()); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return Link{}, ErrUsed // another request, on this hub or another, used it first
		}
		return Link{}, fmt.Errorf("portal: using a link: %w", err)
	}
	k.Used = false
	return k, nil
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
