package console

// Sessions shared by every hub (issue 12). A session's record lives in the
// KV bucket <prefix>_console_sessions (portal.Sessions) under the SHA-256 of
// its cookie's value, and holds no token: only its scope, the portal and
// read-only flags, its CSRF token, its expiry and the SHA-256 of the token
// it signed in with. On each request the token is read again from this
// hub's config (the operator's API token, or the scope account's
// api_token), and the session is live only while that token's SHA-256 is
// the stored one: a rotated token ends its sessions on every hub. Nothing
// the browser holds but the random id names a session, so editing the
// cookie opens no other one. A portal session calls the API as its
// account's scope (portal.WithScope), as before, with no token.
//
// What stays on one hub: the flash message for the next page, and the
// sign-in rate limit (signinlimit.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/hookhub/hookhub/hub/internal/portal"
)

// tokenSum is the hex SHA-256 of token, as a session record keeps it.
func tokenSum(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sessionKey is the SHA-256 of a session's id, as the bucket keys it.
func sessionKey(id string) string { return tokenSum(id) }

// tokenFor is the token a non-portal session of scope calls the API with,
// read from the config now; false when there is none (an account without a
// token, or an operator on a hub that has account tokens only).
func (c *Console) tokenFor(scope string) (string, bool) {
	if scope == "" {
		t := c.o.Config.APIToken.Reveal()
		return t, t != "" || !c.tokenRequired()
	}
	for _, a := range c.o.Config.Accounts {
		if a.ID == scope {
			t := a.APIToken.Reveal()
			return t, t != ""
		}
	}
	return "", false
}

// keep stores a new session (with a new CSRF token) and returns its id.
func (c *Console) keep(ctx context.Context, s *session) (string, error) {
	s.csrf = randomToken()
	rec := portal.Session{Scope: s.scope, Portal: s.portal, ReadOnly: s.readOnly, CSRF: s.csrf, Expires: s.expires}
	if !s.portal {
		rec.TokenSum = tokenSum(s.token)
	}
	id, err := c.o.Sessions.Create(ctx, rec)
	if err != nil {
		return "", err
	}
	s.key = sessionKey(id)
	return id, nil
}

// load is the live session of the request's cookie name, and its id: a
// portal session when wantPortal, else a console one.
func (c *Console) load(r *http.Request, name string, wantPortal bool) (string, *session) {
	ck, err := r.Cookie(name)
	if err != nil || ck.Value == "" {
		return "", nil
	}
	rec, err := c.o.Sessions.Get(r.Context(), ck.Value)
	if err != nil {
		if !errors.Is(err, portal.ErrNoSession) {
			c.log.Error().Err(err).Msg("console session")
		}
		return "", nil
	}
	if rec.Portal != wantPortal {
		return "", nil
	}
	s := &session{key: sessionKey(ck.Value), csrf: rec.CSRF, scope: rec.Scope, expires: rec.Expires, portal: rec.Portal, readOnly: rec.ReadOnly}
	if !rec.Portal {
		token, ok := c.tokenFor(rec.Scope)
		if !ok || !equal(tokenSum(token), rec.TokenSum) {
			return "", nil // the token it signed in with is no longer this scope's
		}
		s.token = token
	}
	return ck.Value, s
}

// unavailable answers a request whose session could not be stored or ended.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error().Err(err).Msg("console session")
	c.render(w, r, nil, http.StatusServiceUnavailable, "message", map[string]any{"Title": "Try again",
		"Message": "The hub could not keep your session just now: try again in a moment.", "SignIn": true})
}
