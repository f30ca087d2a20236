package console

// One-time sign-in links of the operator console: the demo prints one so
// that a newcomer's browser is signed in at once. A link is a portal.Links
// record marked Console (single-use across every hub, short-lived, kept
// only as a digest). Its GET shows the sign-in button, which console.js
// presses; only the POST spends the link and opens an operator session.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/hookhub/hookhub/hub/internal/portal"
)

// SignInLink makes a single-use link that signs a browser in to the
// console as the operator, valid for ttl (at most portal.MaxLifetime), and
// returns its path (/console/enter?t=...).
func (c *Console) SignInLink(ctx context.Context, ttl time.Duration) (string, error) {
	if c.o.Links == nil {
		return "", errors.New("console: this hub serves no sign-in links")
	}
	if c.tokenRequired() && c.o.Config.APIToken.Reveal() == "" {
		return "", errors.New("console: the hub has account tokens but no API token: an operator sign-in link opens nothing")
	}
	ttl = min(max(ttl, time.Second), portal.MaxLifetime)
	t, _, err := c.o.Links.IssueConsole(ctx, ttl)
	if err != nil {
		return "", err
	}
	return Path + "enter?t=" + url.QueryEscape(t), nil
}

func (c *Console) signinLinkRoutes() {
	c.mux.HandleFunc("GET "+Path+"enter", c.enterLinkPage)
	c.mux.HandleFunc("POST "+Path+"enter", c.enterLink)
}

// consoleLink is the console link of token t, without spending it.
func (c *Console) consoleLink(r *http.Request, t string) error {
	if c.o.Links == nil {
		return portal.ErrUnknown
	}
	link, err := c.o.Links.Check(r.Context(), t)
	if err == nil && !link.Console {
		err = portal.ErrUnknown // a portal link opens no console
	}
	return err
}

const signInAgain = "Sign in with your token instead."

func (c *Console) linkMessage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := c.linkRefused(err, signInAgain)
	c.render(w, r, nil, status, "message", map[string]any{"Title": "Link not valid", "Message": msg, "SignIn": true})
}

func (c *Console) enterLinkPage(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("t")
	if err := c.consoleLink(r, t); err != nil {
		c.linkMessage(w, r, err)
		return
	}
	c.render(w, r, nil, http.StatusOK, "enter", map[string]any{"Title": "Sign in to the console",
		"Message": "This link signs this browser in to the hookhub console as the operator, once.",
		"Action":  Path + "enter", "Token": t, "Auto": "always"})
}

func (c *Console) enterLink(w http.ResponseWriter, r *http.Request) {
	t := r.PostFormValue("t")
	err := c.consoleLink(r, t)
	if err == nil {
		_, err = c.o.Links.Redeem(r.Context(), t)
	}
	if err != nil {
		c.linkMessage(w, r, err)
		return
	}
	s := &session{token: c.o.Config.APIToken.Reveal(), expires: time.Now().Add(c.o.SessionTTL)}
	id, err := c.keep(r.Context(), s)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: Path, HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, Expires: s.expires})
	c.log.Info().Str("scope", scopeLabel(s.scope)).Msg("console sign-in by link")
	http.Redirect(w, r, Path+"webhooks", http.StatusSeeOther)
}
