package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/hookhub/hookhub/hub/internal/portal"
	"github.com/hookhub/hookhub/sdk/event"
)

// PortalLink is the answer to POST /v1/accounts/{account}/portal-links: the
// sign-in link, shown once.
type PortalLink struct {
	URL       string    `json:"url"`
	Path      string    `json:"path"`
	Account   string    `json:"account"`
	ReadOnly  bool      `json:"read_only"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createPortalLink issues a short-lived, single-use sign-in link to one
// account's portal (issue 12), for the API token or that account's token.
func (s *Server) createPortalLink(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("account")
	if !allowed(r, id) || !event.ValidAccount(id) {
		return notFound("account", id)
	}
	if _, _, ok := portal.Scope(r.Context()); ok {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "a portal session cannot issue portal links"}
	}
	if s.d.PortalLinks == nil {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "this hub serves no account portal"}
	}
	if _, ok := s.account(s.d.Registry.Snapshot(), id); !ok && scope(r) == "" {
		return notFound("account (neither in the config's accounts nor holding a webhook)", id)
	}
	var body struct {
		Lifetime string `json:"lifetime"`
		ReadOnly bool   `json:"read_only"`
	}
	if r.ContentLength != 0 {
		raw, err := readJSON(r)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return badRequest("invalid_json", "", `the body must be {"lifetime": "5m", "read_only": false}, both optional`)
		}
	}
	ttl := portal.DefaultLifetime
	if body.Lifetime != "" {
		d, err := time.ParseDuration(body.Lifetime)
		if err != nil || d < time.Second || d > portal.MaxLifetime {
			return badRequest("bad_parameter", "lifetime", "lifetime must be a duration from 1s to 1h, such as 5m (the default)")
		}
		ttl = d
	}
	token, expires, err := s.d.PortalLinks.Issue(r.Context(), id, ttl, body.ReadOnly)
	if err != nil {
		return err
	}
	path := portal.EnterPath + "?t=" + url.QueryEscape(token)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	s.log.Info().Str("account", id).Bool("read_only", body.ReadOnly).Dur("lifetime", ttl).Msg("portal link issued")
	writeJSON(w, http.StatusCreated, PortalLink{URL: scheme + "://" + r.Host + path, Path: path, Account: id, ReadOnly: body.ReadOnly, ExpiresAt: expires.UTC()})
	return nil
}
