// Package admin is hookhub's management API: HTTP+JSON over Go's own
// net/http routing, bearer-token auth, and errors as JSON with a stable code,
// a message and the field at fault. Its OpenAPI document is
// schemas/openapi.json, served at /openapi.json.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/deliverylog"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/health"
	"github.com/hookhub/hookhub/hub/internal/portal"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/signature"
)

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// Deps is what the API works on; the hub passes them in.
type Deps struct {
	Config   *config.Config
	Bus      *bus.Bus
	Registry *webhooks.Registry
	Store    *webhooks.Store
	Health   *health.Tracker
	// Types are the built-in and declared event types (nil: the catalog
	// and the config's declarations).
	Types *eventtypes.Registry
	// TypeStore keeps the types declared through the API (nil: none can be).
	TypeStore *eventtypes.Store
	// CheckPlugin validates a webhook's plugin name and config.
	CheckPlugin func(name string, config []byte) error
	// PluginSecrets are the fields of a plugin's config its schema marks
	// secret (writeOnly or x-secret): masked in views (nil: none).
	PluginSecrets func(name string) []config.FieldPath
	// DeliveryLog reads the delivery log: attempts, dead letters, counts.
	DeliveryLog deliverylog.Reader
	// Tester sends test requests (nil: none).
	Tester TestSender
	// Preview builds the request the hub would send to a webhook for one
	// event (as a batch of one when batch is set), and sends nothing (nil:
	// no previews).
	Preview func(ctx context.Context, w *webhooks.Webhook, raw []byte, batch bool) (*delivery.Built, error)
	// PublicKeys are an account's v1a public keys, served as its JWKS (nil: none).
	PublicKeys func(account string) []signature.PublicKey
	// PortalLinks are the account portal's sign-in links (nil: no portal).
	PortalLinks *portal.Links
	// Metrics is served at /metrics (nil: not served).
	Metrics *prometheus.Registry
	Log     zerolog.Logger
}

// Server is the management API.
type Server struct {
	d       Deps
	mux     *http.ServeMux
	token   string
	tokens  map[string]string // account token -> account
	hosts   atomic.Pointer[hostSet]
	origins map[string]bool // api_cors_origins
	log     zerolog.Logger
}

// New builds the API. It refuses a non-loopback address without a token.
func New(d Deps) (*Server, error) {
	if d.Types == nil {
		set, err := schemacheck.Default()
		if err == nil {
			d.Types, err = eventtypes.New(d.Config, set)
		}
		if err != nil {
			return nil, fmt.Errorf("api: event types: %w", err)
		}
	}
	s := &Server{d: d, mux: http.NewServeMux(), token: d.Config.APIToken.Reveal(), log: d.Log.With().Str("component", "api").Logger()}
	s.tokens = map[string]string{}
	for _, a := range d.Config.Accounts {
		if t := a.APIToken.Reveal(); t != "" {
			s.tokens[t] = a.ID
		}
	}
	if s.token == "" && len(s.tokens) == 0 && !loopback(d.Config.APIAddr) {
		return nil, fmt.Errorf("api: refusing to serve the management API on %s without a token: set HOOKHUB_API_TOKEN, or listen on 127.0.0.1", d.Config.APIAddr)
	}
	s.hosts.Store(newHostSet(d.Config.APIAllowedHosts, d.Config.APIAddr))
	s.origins = map[string]bool{}
	for _, o := range d.Config.APICORSOrigins {
		s.origins[o] = true
	}
	s.routes()
	return s, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Routes lists every route, "METHOD /path"; the OpenAPI test checks each is documented.
var Routes []string

func (s *Server) handle(pattern string, h func(http.ResponseWriter, *http.Request) error, public bool) {
	Routes = appendOnce(Routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !public {
			scope, e := s.authorize(r)
			if e == nil {
				e = checkContentType(r)
			}
			if e != nil {
				writeError(w, e)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), scopeKey{}, scope))
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if err := h(w, r); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				s.log.Error().Err(err).Str("route", pattern).Msg("api")
				e = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the hub could not do that now; try again"}
			}
			writeError(w, e)
		}
	})
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

type scopeKey struct{}

// scope is the account the caller is limited to ("" for all).
func scope(r *http.Request) string {
	v, _ := r.Context().Value(scopeKey{}).(string)
	return v
}

// allowed reports whether the caller may see an account's data.
func allowed(r *http.Request, account string) bool {
	sc := scope(r)
	return sc == "" || sc == account
}

// webhook finds a webhook the caller may see; one of another account is
// "not found", so that its existence does not leak.
func (s *Server) webhook(r *http.Request, id string) (*webhooks.Webhook, error) {
	wh := s.d.Registry.Get(id)
	if wh == nil || !allowed(r, wh.Account) {
		return nil, notFound("webhook", id)
	}
	return wh, nil
}

// Mount serves h under pattern (such as "/console/") behind the API's own
// Host and Origin checks. Call it before serving.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.guard(s.mux) }

// Run serves on the config's api_addr until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.d.Config.APIAddr)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", s.d.Config.APIAddr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if len(s.d.Config.APIAllowedHosts) == 0 {
		s.hosts.Store(newHostSet(nil, ln.Addr().String())) // the port actually bound (api_addr may say :0)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	s.log.Info().Str("addr", ln.Addr().String()).Bool("token", s.token != "").Int("account_tokens", len(s.tokens)).Msg("management API listening")
	if s.token == "" && len(s.tokens) == 0 {
		s.log.Warn().Str("addr", ln.Addr().String()).Msg("management API without a token: any local process may call it; set HOOKHUB_API_TOKEN to require one")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		return err
	}
}

// Error is an API error: a status, a stable code, a message, and the field
// at fault when there is one.
type Error struct {
	Status  int          `json:"-"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Field   string       `json:"field,omitempty"`
	Details []FieldIssue `json:"details,omitempty"`
}

// FieldIssue is one thing wrong with a request body.
type FieldIssue struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// written is the webhook id as this hub holds it right after a write: absent
// when another request or hub deleted it meanwhile (answered as not found).
func (s *Server) written(id string) (*webhooks.Webhook, error) {
	if wh := s.d.Registry.Get(id); wh != nil {
		return wh, nil
	}
	return nil, notFound("webhook", id)
}

func notFound(what, id string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("no %s %q", what, id)}
}

func badRequest(code, field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Field: field, Message: msg}
}

// readJSON reads the body; errors are 400 or 413 with the reason.
func readJSON(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body is over %d bytes", MaxBody)}
		}
		return nil, badRequest("bad_body", "", "reading the body: "+err.Error())
	}
	if !json.Valid(b) {
		return nil, badRequest("invalid_json", "", "the body is not valid JSON")
	}
	return b, nil
}

func (s *Server) routes() {
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}, true)
	s.handle("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(schemas.OpenAPI())
		return err
	}, true)
	s.handle("GET /ip-ranges", func(w http.ResponseWriter, r *http.Request) error {
		ranges := s.d.Config.Delivery.EgressRanges
		if ranges == nil {
			ranges = []string{}
		}
		out := map[string]any{"egress_ranges": ranges}
		if t, ok := s.d.Config.EgressUpdated(); ok {
			out["updated"] = t.Format(time.RFC3339)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}, true)
	s.handle("GET /v1/accounts/{account}/jwks.json", func(w http.ResponseWriter, r *http.Request) error {
		var keys []signature.PublicKey
		if account := r.PathValue("account"); s.d.PublicKeys != nil && event.ValidAccount(account) {
			keys = s.d.PublicKeys(account)
		}
		if len(keys) == 0 {
			return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "this account signs with no v1a key (signing_keys)"}
		}
		set := signature.JWKS{Keys: make([]signature.JWK, len(keys))}
		for i, k := range keys {
			set.Keys[i] = k.JWK(k.Thumbprint())
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, set)
		return nil
	}, true)
	if s.d.Metrics != nil {
		h := promhttp.HandlerFor(s.d.Metrics, promhttp.HandlerOpts{})
		s.handle("GET /metrics", func(w http.ResponseWriter, r *http.Request) error {
			if scope(r) != "" {
				return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "metrics cover every account: use the API token"}
			}
			h.ServeHTTP(w, r)
			return nil
		}, false)
	}
	s.webhookRoutes()
	s.eventRoutes()
	s.eventTypeRoutes()
	s.deliveryRoutes()
	s.extraRoutes()
	s.moreRoutes()
	s.consoleRoutes()
}
