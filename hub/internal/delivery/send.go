package delivery

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/target"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

// drainLimit is how much of a response body is read past the excerpt so that
// the connection can be reused.
const drainLimit = 64 << 10

// clientFor is the client for w: the shared one, or for a webhook with a
// client certificate (mTLS) one of its own, made once per webhook and
// certificate. The certificate is only ever what tls_client's cert_pem and
// key_pem hold (the config loader reads the config file's files into them):
// delivery never opens a file a webhook names.
func (e *Engine) clientFor(w *webhooks.Webhook) (*http.Client, error) {
	tc := w.TLSClient
	if tc == nil {
		return e.client, nil
	}
	sum := sha256.Sum256([]byte(tc.CertPEM + "\x00" + tc.KeyPEM.Reveal()))
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.mtls[w.ID]; c.client != nil && c.sum == sum {
		return c.client, nil
	}
	if tc.CertPEM == "" || tc.KeyPEM == "" {
		return nil, fmt.Errorf("%w: webhook %s: client certificate: tls_client needs cert_pem and key_pem (file paths are read from the config file only)", ErrPermanent, w.ID)
	}
	cert, err := tls.X509KeyPair([]byte(tc.CertPEM), []byte(tc.KeyPEM.Reveal()))
	if err != nil {
		_, msg := config.CheckKeyPair(tc.CertPEM, tc.KeyPEM.Reveal())
		return nil, fmt.Errorf("%w: webhook %s: client certificate: %s", ErrPermanent, w.ID, msg)
	}
	c := newClient(e.o)
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}
	if e.mtls == nil {
		e.mtls = map[string]mtlsClient{}
	}
	if old := e.mtls[w.ID].client; old != nil {
		old.CloseIdleConnections()
	}
	e.mtls[w.ID] = mtlsClient{sum: sum, client: c}
	return c, nil
}

// mtlsClient is a webhook's client with its certificate, and the hash of
// the certificate and key it was made with.
type mtlsClient struct {
	sum    [32]byte
	client *http.Client
}

// authorize returns the client for w and adds to hr what only sending
// knows: an OAuth2 webhook's bearer token, fetched or cached.
func (e *Engine) authorize(ctx context.Context, w *webhooks.Webhook, hr *http.Request) (*http.Client, error) {
	client, err := e.clientFor(w)
	if err != nil || !isOAuth2(w) {
		return client, err
	}
	tok, err := e.tokens.token(ctx, client, w, e.timeout())
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+tok)
	return client, nil
}

func isOAuth2(w *webhooks.Webhook) bool { return w.Auth != nil && w.Auth.Type == "oauth2" }

func newClient(o Options) *http.Client {
	connect := o.ConnectTimeout
	if connect <= 0 {
		connect = config.DefaultConnectTimeout
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	if o.SourceAddr.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: o.SourceAddr.AsSlice()}
	}
	tr := &http.Transport{
		DialContext:         o.Policy.Dialer(dialer),
		TLSClientConfig:     &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: connect,
		ForceAttemptHTTP2:   o.HTTP2, // with DialContext set, false means HTTP/1.1 only
		MaxIdleConns:        4 * o.Concurrency,
		MaxIdleConnsPerHost: o.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		Proxy:               nil, // deliveries never pick up a proxy from the environment by surprise
	}
	if o.ProxyURL != nil {
		// The proxy dials the target: check where the name leads first. A
		// name that does not resolve now is retried, as it is without a proxy.
		tr.Proxy = func(r *http.Request) (*url.URL, error) {
			if err := o.Policy.CheckHost(r.Context(), r.URL.Hostname()); err != nil {
				return nil, err
			}
			return o.ProxyURL, nil
		}
		// A proxy that cannot reach the target (its name does not resolve
		// there, say) answers the CONNECT with an error status: retried like
		// a receiver's 5xx, with a reason that says who answered.
		tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, req *http.Request, resp *http.Response) error {
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			return &AttemptError{Err: fmt.Errorf("the proxy answered %s to CONNECT %s", resp.Status, req.Host)}
		}
	}
	return &http.Client{
		Transport: tr,
		// 3xx is a failure, never followed: a redirect could lead anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// result is the outcome of one attempt.
type result struct {
	types      []string // the unit's event types
	status     int
	latency    time.Duration
	excerpt    string
	skipped    bool
	retryAfter time.Duration
	headers    http.Header // as sent, secrets masked
	err        error
}

// attempt builds, signs and sends the request for one unit. What it keeps
// of the receiver's answer and of any error (for the attempt log, the dead
// letters and the logs) is scrubbed of the webhook's secrets.
func (e *Engine) attempt(ctx context.Context, w *webhooks.Webhook, u *unit) (res result) {
	var sent http.Header
	defer func() { res.excerpt, res.err = e.scrub(w, sent, res.excerpt, res.err) }()
	items := make([]Item, len(u.items))
	for i, it := range u.items {
		items[i] = Item{Raw: it.Raw, Stored: it.Stored}
	}
	rctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	now := time.Now()
	b, err := Build(rctx, e.o.Transformer, e.o.UserAgent, e.o.Keys, w, u.id, items, u.batch, now)
	if b != nil {
		res.types = b.Types
	}
	switch {
	case err != nil:
		res.err = err
		return res
	case b.Skipped:
		res.skipped = true
		return res
	}
	hr := b.Request
	client, err := e.authorize(rctx, w, hr)
	sent = hr.Header
	res.headers = masked(hr.Header)
	if err != nil {
		res.err = err
		return res
	}
	resp, err := client.Do(hr)
	res.latency = time.Since(now)
	if err != nil {
		res.err = describe(err, e.timeout())
		return res
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.excerpt = e.excerpt(resp.Body)
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return res
	}
	if resp.StatusCode == http.StatusUnauthorized && isOAuth2(w) {
		e.tokens.forget(w) // refused: the next attempt fetches a new token
	}
	res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	res.err = &AttemptError{Status: resp.StatusCode, RetryAfter: res.retryAfter,
		Err: fmt.Errorf("receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	return res
}

func (e *Engine) timeout() time.Duration {
	if e.o.Timeout > 0 {
		return e.o.Timeout
	}
	return config.DefaultTimeout
}

// describe turns a transport error into a reason without the URL (which may
// carry a token in its query).
func describe(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ae *AttemptError
	switch {
	case errors.Is(err, target.ErrRefused):
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return &AttemptError{Timeout: true, Err: fmt.Errorf("no response within %s", timeout)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &AttemptError{Timeout: true, Err: fmt.Errorf("timed out: %v", err)}
	}
	return &AttemptError{Err: err}
}

func (e *Engine) excerpt(r io.Reader) string {
	n := e.o.ExcerptBytes
	if n <= 0 {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r, int64(n)))
	for len(b) > 0 && !utf8.Valid(b) { // do not cut a rune in half
		b = b[:len(b)-1]
	}
	return string(b)
}

// scrub replaces the webhook's secret values (config.Webhook.SecretValues,
// and the values of the request's non-plain headers as sent: an OAuth2
// token, a plugin's header) in a response excerpt and an error's text. The
// error keeps what it wraps, for errors.Is and errors.As.
func (e *Engine) scrub(w *webhooks.Webhook, sent http.Header, excerpt string, err error) (string, error) {
	if w == nil || (excerpt == "" && err == nil) {
		return excerpt, err
	}
	secrets := e.secretsOf(w, sent)
	excerpt = config.Scrub(excerpt, secrets)
	if err != nil {
		if msg := config.Scrub(err.Error(), secrets); msg != err.Error() {
			err = &scrubbedError{msg: msg, err: err}
		}
	}
	return excerpt, err
}

// secretsOf are w's secret values and the values of the request's
// non-plain headers as sent, for config.Scrub.
func (e *Engine) secretsOf(w *webhooks.Webhook, sent http.Header) []string {
	secrets := w.SecretValuesOnce(e.o.PluginSecrets)
	if len(sent) > 0 {
		secrets = slices.Clip(secrets) // appended to below: never into the webhook's own slice
	}
	for k, vs := range sent {
		if config.PlainHeader(k) {
			continue
		}
		for _, v := range vs {
			secrets = append(secrets, v)
			if _, cred, ok := strings.Cut(v, " "); ok { // Authorization: <scheme> <credential>
				secrets = append(secrets, cred)
			}
		}
	}
	return secrets
}

// scrubbedError is an error whose text had secrets in it, masked; it
// unwraps to the original for errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// authSchemes are the Authorization schemes an attempt record names: any
// other first word may be the credential itself (a value without a scheme).
var authSchemes = map[string]bool{"basic": true, "bearer": true, "digest": true, "hoba": true, "mutual": true,
	"negotiate": true, "ntlm": true, "token": true, "aws4-hmac-sha256": true}

// masked copies h with credentials hidden: Authorization keeps its scheme,
// and the value of any header but the few plain ones (config.PlainHeader) is
// masked.
func masked(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		switch {
		case strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Proxy-Authorization"):
			out[k] = []string{config.Mask}
			if scheme, _, ok := strings.Cut(v[0], " "); ok && authSchemes[strings.ToLower(scheme)] {
				out[k] = []string{scheme + " " + config.Mask}
			}
		case !config.PlainHeader(k):
			out[k] = []string{config.Mask}
		default:
			out[k] = v
		}
	}
	return out
}

// TestResult is the outcome of a test send.
type TestResult struct {
	Status    int                 `json:"status,omitempty"`
	LatencyMS float64             `json:"latency_ms"`
	Response  string              `json:"response,omitempty"`
	Error     string              `json:"error,omitempty"`
	Skipped   bool                `json:"skipped,omitempty"`
	Headers   map[string][]string `json:"request_headers,omitempty"`
	// ResponseHeaders are the receiver's answer's headers, bounded and
	// masked (responseHeaders).
	ResponseHeaders map[string][]string `json:"response_headers,omitempty"`
	Delivered       bool                `json:"delivered"`
}

// TestSend sends one event to w right now through the real path (plugin,
// signing, auth, target policy), marked with the header Hookhub-Test: true,
// and reports what happened. It is not retried. It is recorded in the attempt
// log, marked "test": true, before TestSend returns; it counts in no
// delivery figure.
func (e *Engine) TestSend(ctx context.Context, w *webhooks.Webhook, raw []byte) TestResult {
	ev, _ := event.Parse(raw)
	id := "test"
	if ev != nil {
		id = ev.ID + ":" + w.ID
	}
	res := e.testSend(ctx, w, raw, id)
	e.recordTest(ctx, w, ev, id, res)
	return res
}

func (e *Engine) testSend(ctx context.Context, w *webhooks.Webhook, raw []byte, id string) TestResult {
	rctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	now := time.Now()
	b, err := Build(rctx, e.o.Transformer, e.o.UserAgent, e.o.Keys, w, id, []Item{{Raw: raw, Stored: now}}, false, now)
	switch {
	case err != nil:
		_, err = e.scrub(w, nil, "", err)
		return TestResult{Error: err.Error()}
	case b.Skipped:
		return TestResult{Skipped: true}
	}
	b.Request.Header.Set("Hookhub-Test", "true")
	client, err := e.authorize(rctx, w, b.Request)
	res := TestResult{Headers: masked(b.Request.Header)}
	if err == nil {
		var resp *http.Response
		resp, err = client.Do(b.Request)
		res.LatencyMS = float64(time.Since(now).Microseconds()) / 1000
		if err != nil {
			err = describe(err, e.timeout())
		} else {
			defer resp.Body.Close()
			res.Status, res.Response = resp.StatusCode, e.excerpt(resp.Body)
			res.ResponseHeaders = responseHeaders(resp.Header, e.secretsOf(w, b.Request.Header))
			res.Delivered = resp.StatusCode >= 200 && resp.StatusCode < 300
			if !res.Delivered {
				err = fmt.Errorf("receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
			}
		}
	}
	res.Response, err = e.scrub(w, b.Request.Header, res.Response, err)
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// recordTest writes a test send's attempt record, and waits for JetStream to
// store it, so that the attempt log lists it once the API has answered.
func (e *Engine) recordTest(ctx context.Context, w *webhooks.Webhook, ev *event.Event, id string, res TestResult) {
	rec := &Attempt{
		Job: id, Webhook: w.ID, Account: w.Account, Attempt: 1, Outcome: OutcomeFailed, Status: res.Status,
		LatencyMS: res.LatencyMS, Error: res.Error, Response: res.Response, Headers: res.Headers,
		At: time.Now().UTC(), Test: true,
	}
	if ev != nil {
		rec.EventID, rec.EventType = ev.ID, ev.Type
	}
	switch {
	case res.Skipped:
		rec.Outcome = OutcomeSkipped
	case res.Delivered:
		rec.Outcome = OutcomeDelivered
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	msg := nats.NewMsg(e.o.Bus.Names.Attempt(rec.Account, rec.Webhook))
	msg.Data = b
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := e.o.Bus.JS.PublishMsg(pctx, msg); err != nil {
		e.log.Warn().Err(err).Str("job", id).Str("webhook", w.ID).Msg("recording the test send failed")
	}
}
