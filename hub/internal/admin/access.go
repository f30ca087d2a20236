package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookhub/hookhub/hub/internal/portal"
)

// Who may call the API, and from where.
//
// Tokens: with no token configured (neither HOOKHUB_API_TOKEN nor any
// account's api_token) the API is open, on a loopback address only, and a
// request that presents credentials is refused (they would be checked by
// nothing). Once any token is configured, every route but the public ones
// needs a valid bearer token.
//
// Browsers: a page the user has open must not be able to drive the API
// (CSRF), nor reach it under a name of its own (DNS rebinding). So the Host
// header must be one the API answers to (api_allowed_hosts, by default the
// listening address and localhost on its port), a request whose Origin is
// neither the API's own nor listed in api_cors_origins is refused, and
// bodies must be application/json, which no HTML form can send.

// hostSet is the Host header values the API answers to.
type hostSet struct {
	any   bool            // a wildcard listening address and no list: no check
	exact map[string]bool // host:port, lowercase, IPv6 without brackets
	hosts map[string]bool // host on any port
}

// newHostSet builds the set from the configured list, or, when it is empty,
// from the address the API listens on.
func newHostSet(configured []string, listen string) *hostSet {
	hs := &hostSet{exact: map[string]bool{}, hosts: map[string]bool{}}
	if len(configured) > 0 {
		for _, h := range configured {
			h = strings.ToLower(strings.TrimSpace(h))
			if host, port, err := net.SplitHostPort(h); err == nil {
				hs.exact[net.JoinHostPort(host, port)] = true
			} else {
				hs.hosts[strings.Trim(h, "[]")] = true
			}
		}
		return hs
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return hs // answers nothing: New refuses such an address anyway
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		hs.any = true // 0.0.0.0 or [::]: reachable under any name; a token is required there
		return hs
	}
	for _, h := range []string{strings.ToLower(host), "localhost", "127.0.0.1", "::1"} {
		hs.exact[net.JoinHostPort(h, port)] = true
	}
	return hs
}

// allows reports whether the API answers a request with this Host header.
func (hs *hostSet) allows(hostHeader string) bool {
	if hs.any {
		return true
	}
	h := strings.ToLower(hostHeader)
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = strings.Trim(h, "[]"), "80" // no port: http's default
	}
	return hs.hosts[host] || hs.exact[net.JoinHostPort(host, port)]
}

// guard checks Host and Origin before any route runs, and answers CORS
// preflights for the origins listed in api_cors_origins.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts.Load().allows(r.Host) {
			writeError(w, &Error{Status: http.StatusForbidden, Code: "host_not_allowed",
				Message: "this API does not answer to that Host header: call it by its listening address, or add the name to api_allowed_hosts (HOOKHUB_API_ALLOWED_HOSTS)"})
			return
		}
		origin := r.Header.Get("Origin")
		listed := origin != "" && s.origins[origin]
		switch {
		case listed:
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		case origin != "" && !sameOrigin(origin, r.Host):
			writeError(w, &Error{Status: http.StatusForbidden, Code: "cross_origin",
				Message: "requests from web pages of another origin are refused: list the page's origin in api_cors_origins (HOOKHUB_API_CORS_ORIGINS)"})
			return
		case origin == "" && !safeMethod(r.Method) && crossSite(r.Header.Get("Sec-Fetch-Site")):
			writeError(w, &Error{Status: http.StatusForbidden, Code: "cross_origin", Message: "requests from web pages of another site are refused"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

func crossSite(secFetchSite string) bool {
	return secFetchSite == "cross-site" || secFetchSite == "same-site"
}

// sameOrigin reports whether origin is the API's own (a page it served,
// maybe through a TLS proxy). The Host has been checked already, so a
// rebound name cannot pass.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Path == "" && strings.EqualFold(u.Host, host)
}

// checkContentType refuses a body that is not JSON (415): an HTML form or a
// no-cors fetch can send text/plain or form bodies across sites, never
// application/json.
func checkContentType(r *http.Request) *Error {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil
	}
	if r.ContentLength == 0 {
		return nil // no body (Origin is checked all the same)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && (mt == "application/json" || (r.Method == http.MethodPatch && mt == "application/merge-patch+json")) {
		return nil
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "send the body as JSON with Content-Type: application/json"}
}

// authorize reads the bearer token: the API token sees everything (scope
// ""), an account's token only that account. With no token configured, a
// request without credentials sees everything (the API is then on loopback
// only) and one with credentials is refused.
//
// A portal session's in-process call (portal.WithScope) runs as its
// account's token would, and a read-only one may only read.
func (s *Server) authorize(r *http.Request) (scope string, e *Error) {
	if acct, readOnly, ok := portal.Scope(r.Context()); ok {
		if readOnly && !safeMethod(r.Method) {
			return "", &Error{Status: http.StatusForbidden, Code: "read_only", Message: "this portal session is read-only"}
		}
		return acct, nil
	}
	h := r.Header.Get("Authorization")
	if s.token == "" && len(s.tokens) == 0 {
		if h != "" {
			return "", &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "this hub has no API token (HOOKHUB_API_TOKEN is not set), so it checks none: send no Authorization header"}
		}
		return "", nil
	}
	unauthorized := &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required (Authorization: Bearer <token>)"}
	scheme, got, _ := strings.Cut(h, " ")
	got = strings.TrimLeft(got, " ")
	if !strings.EqualFold(scheme, "Bearer") || got == "" {
		return "", unauthorized
	}
	// Compare digests with every token, so the time taken says nothing of
	// which one matched, nor of any token's length or prefix.
	sum := sha256.Sum256([]byte(got))
	found, acct := 0, ""
	if s.token != "" {
		want := sha256.Sum256([]byte(s.token))
		found = subtle.ConstantTimeCompare(sum[:], want[:])
	}
	for tok, a := range s.tokens {
		want := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			found, acct = 1, a
		}
	}
	if found == 0 {
		return "", unauthorized
	}
	return acct, nil
}
