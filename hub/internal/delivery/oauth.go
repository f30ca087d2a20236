package delivery

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// tokenEarly is how long before its expiry a cached token is fetched anew,
// so that a token never expires on its way to the receiver.
const tokenEarly = 30 * time.Second

// tokens caches OAuth2 client-credentials tokens, one per credentials (the
// token URL, client, secret, scopes and audience), shared by every webhook
// that uses the same ones.
type tokens struct {
	mu sync.Mutex
	m  map[[32]byte]*tokenEntry
}

// tokenEntry is one credentials' token. Its lock is held while the token is
// fetched, so concurrent deliveries wait for one fetch rather than each
// making their own.
type tokenEntry struct {
	mu   sync.Mutex
	cfg  clientcredentials.Config
	tok  *oauth2.Token
	used time.Time // last handed out; under tokens.mu
}

// tokenIdle is how long credentials no delivery asked for stay cached.
const tokenIdle = time.Hour

func credentialsKey(a *config.Auth) [32]byte {
	h := sha256.New()
	for _, s := range []string{a.TokenURL, a.ClientID, a.ClientSecret.Reveal(), strings.Join(a.Scopes, " "), a.Audience} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (t *tokens) entry(a *config.Auth) *tokenEntry {
	k := credentialsKey(a)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.m[k]; e != nil {
		e.used = now
		return e
	}
	if t.m == nil {
		t.m = map[[32]byte]*tokenEntry{}
	}
	// New credentials (a new webhook, a rotated secret): drop those no
	// delivery asked for in tokenIdle, so old secrets do not stay.
	for old, e := range t.m {
		if now.Sub(e.used) > tokenIdle {
			delete(t.m, old)
		}
	}
	e := &tokenEntry{used: now, cfg: clientcredentials.Config{
		ClientID: a.ClientID, ClientSecret: a.ClientSecret.Reveal(), TokenURL: a.TokenURL, Scopes: a.Scopes,
	}}
	if a.Audience != "" {
		e.cfg.EndpointParams = url.Values{"audience": {a.Audience}}
	}
	t.m[k] = e
	return e
}

// token returns the cached token for w's credentials or fetches one with
// client, the delivery client (so the token endpoint passes the same target
// policy as deliveries). Errors never hold the client secret.
func (t *tokens) token(ctx context.Context, client *http.Client, w *webhooks.Webhook, timeout time.Duration) (string, error) {
	e := t.entry(w.Auth)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tok != nil && e.tok.AccessToken != "" && (e.tok.Expiry.IsZero() || time.Until(e.tok.Expiry) > tokenEarly) {
		return e.tok.AccessToken, nil
	}
	tok, err := e.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, client))
	if err != nil {
		return "", tokenError(err, timeout)
	}
	e.tok = tok
	return tok.AccessToken, nil
}

// forget drops w's cached token: the receiver refused it (401), so the next
// attempt fetches a new one.
func (t *tokens) forget(w *webhooks.Webhook) {
	e := t.entry(w.Auth)
	e.mu.Lock()
	e.tok = nil
	e.mu.Unlock()
}

// tokenError says why no token could be had: the endpoint's answer (status
// and OAuth2 error code, not its body) or the transport's failure. Both are
// retried as a failed attempt.
func tokenError(err error, timeout time.Duration) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := "oauth2 token endpoint answered"
		if re.Response != nil {
			msg += " " + re.Response.Status
		}
		if re.ErrorCode != "" {
			msg += " (" + re.ErrorCode + ")"
		}
		return &AttemptError{Err: errors.New(msg)}
	}
	d := describe(err, timeout)
	var ae *AttemptError
	if errors.As(d, &ae) {
		ae.Err = fmt.Errorf("oauth2 token: %w", ae.Err)
		return ae
	}
	return fmt.Errorf("oauth2 token: %w", d)
}
