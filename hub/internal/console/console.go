// Package console is hookhub's web console: server-rendered html/template
// pages over the management API, with the assets embedded (go:embed) and no
// build step. It holds no rule of its own about webhooks: every read and
// change goes through the API's handler, in process, with the signed-in
// token, so the console enforces exactly the API's checks (validation,
// per-account scope, limits) and shows its errors beside the fields.
//
// Security: a strict Content-Security-Policy (scripts and styles from the
// console's own files only), a CSRF token in every form (a POST without it
// is refused with 403), sessions shared by every hub of the NATS (a KV
// record under the SHA-256 of the cookie, holding no token: sessions.go)
// behind an HttpOnly, SameSite=Strict cookie (Secure when served over TLS)
// that expire, and
// secrets shown once, in the answer to a creation or rotation, never in a
// URL or a later page.
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/portal"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Path is where the console is served.
const Path = "/console/"

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 8 * time.Hour

// maxFlashes bounds the flash messages held for the next page.
const maxFlashes = 10000

// maxForm bounds a form's body.
const maxForm = 1 << 20

const (
	sessionCookie = "hookhub_console"
	signinCookie  = "hookhub_console_signin" // the sign-in form's CSRF token
)

// CSP is the Content-Security-Policy of every console answer: nothing but
// the console's own scripts, styles and images, no inline script or style,
// forms posted only to the console, never framed.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Options configure the console.
type Options struct {
	// API is the management API's handler; the console calls it in process.
	API http.Handler
	// Config gives the accounts, their webhook limits and whether a token is
	// required.
	Config *config.Config
	// SessionTTL is how long a sign-in lasts (0: DefaultSessionTTL). With
	// the hub's Sessions it is at most the bucket's TTL, DefaultSessionTTL.
	SessionTTL time.Duration
	// Plugins lists the plugins a webhook may name, for the form's choice
	// (nil: none offered).
	Plugins func() []string
	// Links are the account portal's sign-in links (nil: no portal).
	Links *portal.Links
	// Sessions hold the console's and the portal's sessions, shared by
	// every hub of the NATS (nil: in this process's memory only).
	Sessions *portal.Sessions
	Log      zerolog.Logger
}

// Console is the web console's handler.
type Console struct {
	o     Options
	mux   *http.ServeMux
	pages map[string]*template.Template
	log   zerolog.Logger

	mu      sync.Mutex
	flashes map[string]string // by session key: this hub's only (a message may be lost if the next page is another hub's)
	signins *signinLimiter    // failed sign-ins per client address, this hub's only
}

// session is a request's live session: its record, with the token it
// calls the API with read from the config (sessions.go).
type session struct {
	key     string // the SHA-256 of its id: the key of its flash
	token   string // the API token it calls with ("" when the hub has none, or for the portal)
	csrf    string
	scope   string // the account a token of one account sees ("" for all)
	expires time.Time
	// portal: a session of the account portal (portal.go), bound to scope;
	// it is found only under /portal/, never by the console's cookie.
	portal   bool
	readOnly bool
}

// New builds the console.
func New(o Options) (*Console, error) {
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Sessions == nil {
		o.Sessions = portal.MemorySessions()
	}
	c := &Console{o: o, mux: http.NewServeMux(), pages: map[string]*template.Template{}, flashes: map[string]string{},
		signins: newSigninLimiter(), log: o.Log.With().Str("component", "console").Logger()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue // _name.html: a part every page may use
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", base, err)
		}
		c.pages[base] = t
	}
	c.routes()
	return c, nil
}

// tokenRequired reports whether the hub checks tokens (any API or account
// token configured); without one the API, and so the console, is on a
// loopback address only.
func (c *Console) tokenRequired() bool {
	if c.o.Config.APIToken.Reveal() != "" {
		return true
	}
	for _, a := range c.o.Config.Accounts {
		if a.APIToken.Reveal() != "" {
			return true
		}
	}
	return false
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" makes the browser send Origin: null, which the API refuses
	h.Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix(Path+"static/", http.FileServerFS(static))
	c.mux.Handle("GET "+Path+"static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no listing
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET "+Path+"{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path+"webhooks", http.StatusSeeOther)
	})
	c.mux.HandleFunc("GET "+Path+"signin", c.signinPage)
	c.mux.HandleFunc("POST "+Path+"signin", c.signin)
	c.mux.HandleFunc("POST "+Path+"signout", c.authed(c.signout))
	c.signinLinkRoutes()
	c.webhookRoutes()
	c.detailRoutes()
	c.toolRoutes()
	c.logRoutes()
	c.catalogRoutes()
	c.opsRoutes()
	c.mux.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, nil, http.StatusNotFound, "message", map[string]any{"Title": "Not found", "Message": "There is no such page in the console."})
	})
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func secure(r *http.Request) bool { return r.TLS != nil }

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// current is the request's live session, or nil.
func (c *Console) current(r *http.Request) (string, *session) {
	if s, ok := r.Context().Value(portalKey{}).(*session); ok {
		return "", s // set by the portal's handler only
	}
	return c.load(r, sessionCookie, false)
}

type handler func(w http.ResponseWriter, r *http.Request, s *session)

// authed runs h for a signed-in request; others go to the sign-in page. A
// POST must carry the session's CSRF token, else 403.
func (c *Console) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, s := c.current(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Path+"signin", http.StatusSeeOther)
				return
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", Path+"signin") // htmx swaps no error page: send the whole page there
			}
			c.render(w, r, nil, http.StatusForbidden, "message", map[string]any{"Title": "Signed out",
				"Message": "Your session has ended. Sign in again, then repeat what you were doing.", "SignIn": true})
			return
		}
		if r.Method != http.MethodGet && !equal(r.PostFormValue("csrf"), s.csrf) {
			c.forbidden(w, r, s)
			return
		}
		h(w, r, s)
	}
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusForbidden, "message", map[string]any{"Title": "Refused",
		"Message": "This form was not sent by a page of this console (its CSRF token is missing or wrong). Reload the page and try again."})
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	if _, s := c.current(r); s != nil {
		http.Redirect(w, r, Path+"webhooks", http.StatusSeeOther)
		return
	}
	c.showSignin(w, r, http.StatusOK, "")
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: tok, Path: Path, HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	c.render(w, r, nil, status, "signin", map[string]any{"Title": "Sign in", "CSRF": tok, "TokenRequired": c.tokenRequired(), "Problem": problem})
}

// signin checks the token against the API itself (a token the API refuses
// opens nothing) and opens a session.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(signinCookie)
	if err != nil || !equal(r.PostFormValue("csrf"), ck.Value) {
		c.render(w, r, nil, http.StatusForbidden, "message", map[string]any{"Title": "Refused",
			"Message": "This sign-in form was not sent by a page of this console (its CSRF token is missing or wrong). Reload the page and try again.", "SignIn": true})
		return
	}
	if wait := c.signins.wait(clientAddr(r)); wait > 0 {
		c.tooMany(w, r, wait)
		return
	}
	token := ""
	if c.tokenRequired() {
		token = strings.TrimSpace(r.PostFormValue("token"))
		if token == "" {
			c.showSignin(w, r, http.StatusUnprocessableEntity, "Enter the API token (HOOKHUB_API_TOKEN) or your account's token.")
			return
		}
	}
	s := &session{token: token, expires: time.Now().Add(c.o.SessionTTL)}
	res := c.call(r.Context(), r, s, http.MethodGet, "/v1/webhooks", nil)
	if res.status != http.StatusOK {
		c.log.Info().Int("status", res.status).Msg("console sign-in refused")
		c.signins.failed(clientAddr(r))
		c.showSignin(w, r, http.StatusUnauthorized, "That token is not one this hub accepts.")
		return
	}
	s.scope = c.scopeOf(token)
	id, err := c.keep(r.Context(), s)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: "", Path: Path, MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: Path, HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, Expires: s.expires})
	c.log.Info().Str("scope", scopeLabel(s.scope)).Msg("console sign-in")
	http.Redirect(w, r, Path+"webhooks", http.StatusSeeOther)
}

// scopeOf is the account a token is limited to ("" for the API token, or
// when the hub has none).
func (c *Console) scopeOf(token string) string {
	if token == "" || equal(token, c.o.Config.APIToken.Reveal()) {
		return ""
	}
	for _, a := range c.o.Config.Accounts {
		if equal(token, a.APIToken.Reveal()) {
			return a.ID
		}
	}
	return ""
}

func scopeLabel(scope string) string {
	if scope == "" {
		return "operator"
	}
	return "account " + scope
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, _ *session) {
	id, _ := c.current(r)
	if err := c.o.Sessions.Delete(r.Context(), id); err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Path, MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, Path+"signin", http.StatusSeeOther)
}

// apiResult is an API answer.
type apiResult struct {
	status int
	body   []byte
}

// apiError is the API's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	Details []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details"`
}

func (a apiResult) err() *apiError {
	if a.status < 400 {
		return nil
	}
	var e struct {
		Error apiError `json:"error"`
	}
	if json.Unmarshal(a.body, &e) != nil || e.Error.Message == "" {
		e.Error.Message = fmt.Sprintf("the hub answered %d", a.status)
	}
	return &e.Error
}

// unreadable stands for an API answer that could not be decoded.
var unreadable = apiResult{status: http.StatusBadGateway, body: []byte(`{"error":{"message":"the hub's answer could not be read"}}`)}

// getList GETs one of the API's lists at path, as the session, and returns
// its data. When the API refuses the call, the result is its answer (for
// c.failed or its message); when the answer cannot be decoded, unreadable.
// Otherwise the result's status is 200.
func getList[T any](c *Console, r *http.Request, s *session, path string) ([]T, apiResult) {
	res := c.call(r.Context(), r, s, http.MethodGet, path, nil)
	if res.status != http.StatusOK {
		return nil, res
	}
	var body struct {
		Data []T `json:"data"`
	}
	if json.Unmarshal(res.body, &body) != nil {
		return nil, unreadable
	}
	return body.Data, res
}

// call sends one request to the API's handler in process, as the session's
// token, under the Host the browser used (which the API checks as its own).
func (c *Console) call(ctx context.Context, r *http.Request, s *session, method, path string, body any) apiResult {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return apiResult{status: http.StatusBadRequest, body: []byte(`{"error":{"message":"bad request"}}`)}
	}
	req.Host = r.Host
	req.RemoteAddr = r.RemoteAddr
	req.TLS = r.TLS
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.portal {
		req = req.WithContext(portal.WithScope(ctx, s.scope, s.readOnly)) // as the account's token, in process only
	} else if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	rec := &recorder{header: http.Header{}}
	c.o.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiResult{status: rec.status, body: rec.buf.Bytes()}
}

// recorder keeps an in-process API answer.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (rc *recorder) Header() http.Header { return rc.header }
func (rc *recorder) Write(b []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	return rc.buf.Write(b)
}
func (rc *recorder) WriteHeader(code int) {
	if rc.status == 0 {
		rc.status = code
	}
}

// render executes page with the layout. data is a map; the session's CSRF
// token, scope and flash are added.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page string, data map[string]any) {
	t := c.pages[page]
	if data == nil {
		data = map[string]any{}
	}
	if s != nil {
		data["CSRF"] = s.csrf
		data["Scope"] = scopeLabel(s.scope)
		data["SignedIn"] = true
		data["OpNav"] = operatorOf(s) // the operator's screens in the navigation
		data["ViewOnly"] = s.readOnly // a read-only portal session: no changing controls
		c.mu.Lock()
		if f := c.flashes[s.key]; f != "" {
			data["Flash"] = f
			delete(c.flashes, s.key)
		}
		c.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var buf bytes.Buffer
	defer func() {
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	}()
	name := "layout"
	if r.Header.Get("HX-Request") == "true" && t.Lookup("fragment") != nil {
		name = "fragment"
	}
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		c.log.Error().Err(err).Str("page", page).Msg("console template")
		buf.Reset()
		buf.WriteString("the page could not be drawn")
		status = http.StatusInternalServerError
	}
}

func (c *Console) setFlash(s *session, msg string) {
	c.mu.Lock()
	if len(c.flashes) >= maxFlashes {
		clear(c.flashes) // unread messages of sessions gone elsewhere or away
	}
	c.flashes[s.key] = msg
	c.mu.Unlock()
}

var funcs = template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": strings.Join,
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}
