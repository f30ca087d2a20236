package console

// The account portal (issue 12): the console's webhooks screens for one
// account, opened by a single-use sign-in link that a platform gets from
// POST /v1/accounts/{account}/portal-links and puts in an iframe or a
// redirect. A portal session calls the API in process as that account's
// token would (portal.WithScope), so the API's own checks decide what it
// sees: another account's webhook is "not found". A read-only session's
// changes are refused here with 403, and by the API as well.
//
// Cookie: hookhub_portal, HttpOnly, Path /portal/. Over TLS it is
// SameSite=None; Secure, so that it is sent inside the platform's
// cross-site iframe; over plain http it is SameSite=Lax (browsers refuse
// SameSite=None without Secure), which works in a top-level redirect but
// not in a cross-site iframe: frame the portal over https.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookhub/hookhub/hub/internal/portal"
)

// PortalPath is where the account portal is served.
const PortalPath = "/portal/"

// PortalSessionTTL is how long a portal session lasts.
const PortalSessionTTL = time.Hour

const portalCookie = "hookhub_portal"

type portalKey struct{}

// PortalCSP is the portal's Content-Security-Policy: the console's, framed
// only by the origins of console.frame_ancestors ('none' without any).
func PortalCSP(ancestors []string) string {
	fa := "'none'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	return strings.Replace(CSP, "frame-ancestors 'none'", "frame-ancestors "+fa, 1)
}

// Portal is the account portal's handler, to serve at PortalPath.
func (c *Console) Portal() http.Handler { return http.HandlerFunc(c.servePortal) }

func (c *Console) servePortal(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	ancestors := c.o.Config.Console.FrameAncestors
	h.Set("Content-Security-Policy", PortalCSP(ancestors))
	if len(ancestors) == 0 {
		h.Set("X-Frame-Options", "DENY")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	rest := strings.TrimPrefix(r.URL.Path, PortalPath)
	switch {
	case c.o.Links == nil:
		c.portalMessage(w, r, http.StatusNotFound, "No portal", "This hub serves no account portal.")
	case rest == "enter" && r.Method == http.MethodGet:
		c.portalEnterPage(w, r)
	case rest == "enter" && r.Method == http.MethodPost:
		c.enter(w, r)
	case strings.HasPrefix(rest, "static/") && r.Method == http.MethodGet:
		c.mux.ServeHTTP(w, c.asConsole(r.Context(), r, rest))
	default:
		c.portalPage(w, r, rest)
	}
}

// portalEnterPage answers the GET of a sign-in link: it checks the link
// without using it and shows a button that POSTs it (console.js presses it
// at once inside a frame). A link previewer that only GETs spends nothing.
func (c *Console) portalEnterPage(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("t")
	link, err := c.o.Links.Check(r.Context(), t)
	if err == nil && link.Console {
		err = portal.ErrUnknown // a console link opens no portal
	}
	if err != nil {
		status, msg := c.linkRefused(err, "Open the portal again from the application that sent you here.")
		c.portalMessage(w, r, status, "Link not valid", msg)
		return
	}
	c.asPortal(w, func(w http.ResponseWriter) {
		c.render(w, r, nil, http.StatusOK, "enter", map[string]any{"Title": "Open the webhooks portal",
			"Message": "This link opens the webhooks of account " + link.Account + ", once.",
			"Action":  PortalPath + "enter", "Token": t, "Auto": "framed"})
	})
}

// linkRefused is the status and message for a sign-in link Check or Redeem
// refused; again says how to get a new one.
func (c *Console) linkRefused(err error, again string) (int, string) {
	switch {
	case errors.Is(err, portal.ErrUsed):
		return http.StatusGone, "This sign-in link was used already: each link opens once. " + again
	case errors.Is(err, portal.ErrExpired):
		return http.StatusGone, "This sign-in link has expired. " + again
	case errors.Is(err, portal.ErrUnknown):
		c.log.Info().Err(err).Msg("sign-in link refused")
		return http.StatusNotFound, "This sign-in link is not valid. " + again
	}
	c.log.Error().Err(err).Msg("sign-in link")
	return http.StatusServiceUnavailable, "The hub could not read the link now: try again in a moment. " + again
}

// enter redeems a sign-in link (POSTed by its page) and opens a portal
// session.
func (c *Console) enter(w http.ResponseWriter, r *http.Request) {
	t := r.PostFormValue("t")
	link, err := c.o.Links.Check(r.Context(), t)
	if err == nil && link.Console {
		err = portal.ErrUnknown // a console link opens no portal, and is not spent here
	}
	if err == nil {
		link, err = c.o.Links.Redeem(r.Context(), t)
	}
	if err != nil {
		status, msg := c.linkRefused(err, "Open the portal again from the application that sent you here.")
		c.portalMessage(w, r, status, "Link not valid", msg)
		return
	}
	s := &session{scope: link.Account, portal: true, readOnly: link.ReadOnly, expires: time.Now().Add(PortalSessionTTL)}
	id, err := c.keep(r.Context(), s)
	if err != nil {
		c.asPortal(w, func(w http.ResponseWriter) { c.unavailable(w, r, err) })
		return
	}
	ck := &http.Cookie{Name: portalCookie, Value: id, Path: PortalPath, HttpOnly: true, SameSite: http.SameSiteLaxMode, Expires: s.expires}
	if secure(r) {
		ck.Secure, ck.SameSite = true, http.SameSiteNoneMode
	}
	http.SetCookie(w, ck)
	c.log.Info().Str("account", link.Account).Bool("read_only", link.ReadOnly).Msg("portal sign-in")
	http.Redirect(w, r, PortalPath+"webhooks", http.StatusSeeOther) // the link leaves the address bar
}

// portalSession is the request's live portal session, and its id.
func (c *Console) portalSession(r *http.Request) (string, *session) {
	return c.load(r, portalCookie, true)
}

// portalPage serves one of the console's webhooks screens, or its event catalog, as the portal
// session, with the console's links turned into the portal's.
func (c *Console) portalPage(w http.ResponseWriter, r *http.Request, rest string) {
	id, s := c.portalSession(r)
	if s == nil {
		c.portalMessage(w, r, http.StatusForbidden, "Session ended",
			"Your portal session has ended. Open the portal again from the application that sent you here.")
		return
	}
	if r.Method != http.MethodGet && !equal(r.PostFormValue("csrf"), s.csrf) {
		c.asPortal(w, func(w http.ResponseWriter) { c.forbidden(w, r, s) })
		return
	}
	if rest == "signout" && r.Method == http.MethodPost {
		if err := c.o.Sessions.Delete(r.Context(), id); err != nil {
			c.asPortal(w, func(w http.ResponseWriter) { c.unavailable(w, r, err) })
			return
		}
		http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: "", Path: PortalPath, MaxAge: -1, HttpOnly: true, Secure: secure(r)})
		c.portalMessage(w, r, http.StatusOK, "Signed out", "You have left the portal.")
		return
	}
	if rest == "" {
		http.Redirect(w, r, PortalPath+"webhooks", http.StatusSeeOther)
		return
	}
	if rest != "webhooks" && !strings.HasPrefix(rest, "webhooks/") && !strings.HasPrefix(rest, "events/") && rest != "event-types" {
		c.portalRender(w, r, s, http.StatusNotFound, "Not found", "There is no such page in the portal.")
		return
	}
	if s.readOnly && r.Method != http.MethodGet {
		c.portalRender(w, r, s, http.StatusForbidden, "Read-only", "This portal session can look at the webhooks but not change them.")
		return
	}
	c.asPortal(w, func(w http.ResponseWriter) {
		c.mux.ServeHTTP(w, c.asConsole(context.WithValue(r.Context(), portalKey{}, s), r, rest))
	})
}

// asPortal runs serve, and sends its answer with the console's links
// turned into the portal's.
func (c *Console) asPortal(w http.ResponseWriter, serve func(http.ResponseWriter)) {
	rec := &recorder{header: http.Header{}}
	serve(rec)
	for k, v := range rec.header {
		if k == "Location" || k == "Hx-Redirect" {
			for i := range v {
				v[i] = toPortal(v[i])
			}
		}
		w.Header()[k] = v
	}
	body := rec.buf.Bytes()
	if strings.HasPrefix(rec.header.Get("Content-Type"), "text/html") {
		body = portalLinks(body)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(body)
}

// asConsole is r for the console's own route of the portal path rest.
func (c *Console) asConsole(ctx context.Context, r *http.Request, rest string) *http.Request {
	r2 := r.Clone(ctx)
	r2.URL.Path = Path + rest
	r2.URL.RawPath = ""
	return r2
}

func toPortal(loc string) string {
	if strings.HasPrefix(loc, Path) {
		return PortalPath + strings.TrimPrefix(loc, Path)
	}
	return loc
}

// portalLinks turns the console's own links in a page (attributes whose
// value starts with /console/) into the portal's. html/template writes a
// quote in any value it was given as &#34;, so text from the API cannot
// match.
func portalLinks(page []byte) []byte {
	return bytes.ReplaceAll(page, []byte(`="`+Path), []byte(`="`+PortalPath))
}

func (c *Console) portalMessage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	c.portalRender(w, r, nil, status, title, msg)
}

func (c *Console) portalRender(w http.ResponseWriter, r *http.Request, s *session, status int, title, msg string) {
	c.asPortal(w, func(w http.ResponseWriter) {
		c.render(w, r, s, status, "portal", map[string]any{"Title": title, "Message": msg})
	})
}
