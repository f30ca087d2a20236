package config

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
	"golang.org/x/net/http/httpguts"

	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/target"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/signature"
)

// SchemaPath is the config's schema in package schemas.
const SchemaPath = "config.schema.json"

// FieldError says where a config is wrong and why:
// "hookhub.json: webhooks[3].url: must use https".
type FieldError struct {
	File string // the config file, or "environment"
	Path string // e.g. webhooks[3].url
	Msg  string
}

func (e *FieldError) Error() string {
	s := e.File
	if s == "" {
		s = "config"
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Msg
}

// Load reads the config file at path ("" for none), checks it against its
// schema, resolves ${env:NAME} from environ, overlays HOOKHUB_ variables from
// environ, fills defaults and validates the result. All errors are returned at
// once, joined, each a *FieldError.
func Load(path string, environ map[string]string) (*Config, error) {
	raw := []byte("{}")
	name := ""
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &FieldError{File: path, Msg: "cannot read: " + unwrapPathErr(err)}
		}
		raw, name = b, path
	}
	c, err := Parse(name, raw, environ)
	if err != nil {
		return nil, err
	}
	c.File = path
	return c, nil
}

func unwrapPathErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse is Load on bytes; name is used in errors.
func Parse(name string, raw []byte, environ map[string]string) (*Config, error) {
	if name == "" {
		name = "config"
	}
	doc, err := schemacheck.Decode(raw)
	if err != nil {
		return nil, &FieldError{File: name, Msg: "not valid JSON: " + err.Error()}
	}
	set, err := schemacheck.Default()
	if err != nil {
		return nil, err
	}
	issues, err := set.Validate(SchemaPath, doc)
	if err != nil {
		return nil, err
	}
	if len(issues) > 0 {
		errs := make([]error, 0, len(issues))
		seen := map[string]bool{}
		for _, is := range issues {
			errs = append(errs, &FieldError{File: name, Path: is.Path, Msg: is.Msg})
			seen[is.Path] = true
		}
		// Say what else is wrong too, where the schema had nothing to say.
		var loose Config
		if expanded, xerrs := expandEnv(name, raw, environ); len(xerrs) == 0 && json.Unmarshal(expanded, &loose) == nil {
			loose.fillDefaults()
			for _, err := range flatten(loose.Validate(name)) {
				var fe *FieldError
				if errors.As(err, &fe) && !seen[fe.Path] {
					errs = append(errs, err)
				}
			}
		}
		return nil, errors.Join(errs...)
	}

	expanded, errs := expandEnv(name, raw, environ)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(expanded))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, &FieldError{File: name, Msg: err.Error()}
	}
	if err := env.ParseWithOptions(&c, env.Options{Prefix: "HOOKHUB_", Environment: environ}); err != nil {
		return nil, &FieldError{File: "environment", Msg: err.Error()}
	}
	if errs := emptyTokens(name, expanded, environ, &c); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.fillDefaults()
	c.File = name
	if err := c.Validate(name); err != nil {
		return nil, err
	}
	for i := range c.Webhooks {
		if tc := c.Webhooks[i].TLSClient; tc != nil {
			c.Webhooks[i].TLSClient = &TLSClient{CertFile: c.Resolve(tc.CertFile), KeyFile: c.Resolve(tc.KeyFile)}
		}
	}
	return &c, nil
}

// emptyTokens refuses an API token that is given but empty: a ${env:NAME}
// whose variable is set to "", or HOOKHUB_API_TOKEN="". Taken as "no
// token", it would leave the API open, or an account's token unchecked.
func emptyTokens(name string, expanded []byte, environ map[string]string, c *Config) []error {
	var errs []error
	if v, ok := environ["HOOKHUB_API_TOKEN"]; ok && v == "" {
		errs = append(errs, &FieldError{File: "environment", Path: "HOOKHUB_API_TOKEN",
			Msg: "is set but empty: unset it for a loopback API without a token, or give a token of at least " + fmt.Sprint(MinTokenLen) + " characters"})
	}
	var given struct {
		APIToken *string `json:"api_token"`
		Accounts []struct {
			APIToken *string `json:"api_token"`
		} `json:"accounts"`
	}
	_ = json.Unmarshal(expanded, &given)
	if given.APIToken != nil && *given.APIToken == "" && c.APIToken == "" {
		errs = append(errs, &FieldError{File: name, Path: "api_token", Msg: "is empty (its ${env:...} variable is set to \"\"): leave api_token out for no token, or set the variable"})
	}
	for i, a := range given.Accounts {
		if a.APIToken != nil && *a.APIToken == "" {
			errs = append(errs, &FieldError{File: name, Path: fmt.Sprintf("accounts[%d].api_token", i), Msg: "is empty (its ${env:...} variable is set to \"\"): leave api_token out for no token, or set the variable"})
		}
	}
	return errs
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${env:NAME} in every string value of the document.
func expandEnv(name string, raw []byte, environ map[string]string) ([]byte, []error) {
	if !bytes.Contains(raw, []byte("${env:")) {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, []error{&FieldError{File: name, Msg: err.Error()}}
	}
	var errs []error
	var walk func(v any, path []string) any
	walk = func(v any, path []string) any {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				t[k] = walk(x, append(path, k))
			}
		case []any:
			for i, x := range t {
				t[i] = walk(x, append(path, fmt.Sprint(i)))
			}
		case string:
			return envRef.ReplaceAllStringFunc(t, func(m string) string {
				key := envRef.FindStringSubmatch(m)[1]
				val, ok := environ[key]
				if !ok {
					errs = append(errs, &FieldError{File: name, Path: schemacheck.Path(path),
						Msg: fmt.Sprintf("environment variable %s is not set", key)})
				}
				return val
			})
		}
		return v
	}
	doc = walk(doc, nil)
	if len(errs) > 0 {
		return nil, errs
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, []error{&FieldError{File: name, Msg: err.Error()}}
	}
	return out, nil
}

func (c *Config) fillDefaults() {
	if c.NATSListen == "" {
		c.NATSListen = DefaultNATSListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.APIAddr == "" {
		c.APIAddr = DefaultAPIAddr
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "auto"
	}
	d := &c.Delivery
	if len(d.AllowedPorts) == 0 {
		d.AllowedPorts = target.DefaultPorts
	}
	if d.ConnectTimeout == 0 {
		d.ConnectTimeout = Duration(DefaultConnectTimeout)
	}
	if d.Timeout == 0 {
		d.Timeout = Duration(DefaultTimeout)
	}
	if d.Concurrency == 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.PerWebhookConcurrency == 0 {
		d.PerWebhookConcurrency = DefaultPerWebhookConcurrency
	}
	if d.ResponseExcerptBytes == 0 {
		d.ResponseExcerptBytes = DefaultResponseExcerptBytes
	}
	if d.Retry.Schedule == nil {
		d.Retry.Schedule = DefaultSchedule
	}
	if d.Retry.Jitter == nil {
		j := DefaultJitter
		d.Retry.Jitter = &j
	}
}

// TargetPolicy is the policy webhook URLs and connections are held to.
func (c *Config) TargetPolicy() target.Policy {
	p := target.Policy{AllowInsecure: c.Delivery.AllowInsecureTargets, Ports: c.Delivery.AllowedPorts}
	for _, n := range c.Delivery.AllowNetworks {
		if pfx, err := netip.ParsePrefix(n); err == nil {
			p.Allow = append(p.Allow, pfx)
		}
	}
	if u, err := url.Parse(c.Delivery.ProxyURL); err == nil && c.Delivery.ProxyURL != "" {
		p.Proxy = u.Host
	}
	return p
}

// WebhookLimit is the most webhooks account may hold.
func (c *Config) WebhookLimit(account string) int {
	for _, a := range c.Accounts {
		if a.ID == account && a.WebhookLimit > 0 {
			return a.WebhookLimit
		}
	}
	return DefaultWebhookLimit
}

// Resolve makes a path in the config relative to the config file's folder.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// Validate checks what the schema cannot: URL policy, secrets, unique ids,
// webhook limits, durations. name is used in errors.
func (c *Config) Validate(name string) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{File: name, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if !event.ValidAccount(c.SubjectPrefix) {
		bad("subject_prefix", "must be letters, digits, '_' or '-'")
	}
	if c.NATSURL == "" && c.StreamReplicas > 1 {
		bad("stream_replicas", "%d replicas need a NATS cluster (nats_url); the embedded server is a single node", c.StreamReplicas)
	}
	if c.Delivery.Timeout.D() <= 0 || c.Delivery.ConnectTimeout.D() <= 0 {
		bad("delivery", "timeouts must be positive")
	}
	for i, r := range c.Delivery.Retry.Schedule {
		if r.D() < 0 {
			bad(fmt.Sprintf("delivery.retry.schedule[%d]", i), "must not be negative")
		}
	}
	for i, r := range c.Delivery.AllowNetworks {
		if _, err := netip.ParsePrefix(r); err != nil {
			bad(fmt.Sprintf("delivery.allow_networks[%d]", i), "%q is not a CIDR range such as 10.1.2.0/24", r)
		}
	}
	if p := c.Delivery.ProxyURL; p != "" {
		if u, err := url.Parse(p); err != nil || u.Scheme != "http" || u.Port() == "" {
			bad("delivery.proxy_url", "must be http://host:port (an HTTP CONNECT proxy)")
		}
	}
	if a := c.Delivery.SourceAddress; a != "" {
		if _, err := netip.ParseAddr(a); err != nil {
			bad("delivery.source_address", "%q is not an IP address", a)
		}
	}
	checkSigningKeys("delivery.signing_keys", c.Delivery.SigningKeys, bad)
	for i, r := range c.Delivery.EgressRanges {
		if _, err := netip.ParsePrefix(r); err != nil {
			bad(fmt.Sprintf("delivery.egress_ranges[%d]", i), "%q is not a CIDR range such as 203.0.113.0/28", r)
		}
	}
	c.checkTokens(bad)
	for i, h := range c.APIAllowedHosts {
		if strings.ContainsAny(h, "/ \t\r\n") || strings.Contains(h, "://") {
			bad(fmt.Sprintf("api_allowed_hosts[%d]", i), "%q is not a host or host:port", h)
		}
	}
	for i, o := range c.APICORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			bad(fmt.Sprintf("api_cors_origins[%d]", i), "%q is not an origin such as https://console.example.com", o)
		}
	}
	accounts := map[string]bool{}
	for i, a := range c.Accounts {
		checkSigningKeys(fmt.Sprintf("accounts[%d].signing_keys", i), a.SigningKeys, bad)
		if accounts[a.ID] {
			bad(fmt.Sprintf("accounts[%d].id", i), "duplicate account %q", a.ID)
		}
		accounts[a.ID] = true
	}
	plugins := map[string]bool{}
	for i, p := range c.Plugins {
		if plugins[p.Name] {
			bad(fmt.Sprintf("plugins[%d].name", i), "duplicate plugin %q", p.Name)
		}
		plugins[p.Name] = true
	}
	ids := map[string]int{}
	perAccount := map[string]int{}
	for i, w := range c.Webhooks {
		at := fmt.Sprintf("webhooks[%d]", i)
		if j, dup := ids[w.ID]; dup {
			bad(at+".id", "duplicate webhook id %q (also webhooks[%d])", w.ID, j)
		}
		ids[w.ID] = i
		perAccount[w.Account]++
		errs = append(errs, c.CheckWebhook(name, at, w)...)
	}
	accts := make([]string, 0, len(perAccount))
	for a := range perAccount {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	for _, a := range accts {
		if n, lim := perAccount[a], c.WebhookLimit(a); n > lim {
			bad("webhooks", "account %q has %d webhooks, more than its limit of %d", a, n, lim)
		}
	}
	return errors.Join(errs...)
}

// MinTokenLen is the shortest management API token the hub takes.
const MinTokenLen = 16

// checkTokens refuses API tokens that are short, hold spaces or controls, or
// are shared (an account's token equal to another token would give the
// caller the wrong scope). Values are never shown.
func (c *Config) checkTokens(bad func(path, format string, args ...any)) {
	seen := map[string]string{}
	check := func(path string, s Secret) {
		t := s.Reveal()
		if t == "" {
			return
		}
		switch {
		case len(t) < MinTokenLen:
			bad(path, "is %d characters: use at least %d (`openssl rand -hex 24` makes one; the value is not shown)", len(t), MinTokenLen)
		case strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
			bad(path, "must be printable ASCII without spaces (the value is not shown)")
		}
		if other, dup := seen[t]; dup {
			bad(path, "is the same as %s: each token must be different", other)
		}
		seen[t] = path
	}
	check("api_token", c.APIToken)
	for i, a := range c.Accounts {
		check(fmt.Sprintf("accounts[%d].api_token", i), a.APIToken)
	}
}

// ReservedHeader reports whether a header name is set by the hub and may be set
// neither by config nor by a plugin.
func ReservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "webhook-id", "webhook-timestamp", "webhook-signature", "content-length", "host",
		"transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization", "proxy-connection":
		return true
	}
	return false
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// CheckWebhook checks one webhook beyond its schema: target policy, secret,
// retry schedule, batch, headers. Errors name file and path (at, such as
// webhooks[3]), never a secret's value.
func (c *Config) CheckWebhook(file, at string, w Webhook) []error {
	var errs []error
	bad := func(path, format string, args ...any) {
		if at != "" {
			path = at + "." + path
		}
		errs = append(errs, &FieldError{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if err := c.TargetPolicy().CheckURL(w.URL); err != nil {
		bad("url", "%s", strings.TrimPrefix(err.Error(), target.ErrRefused.Error()+": "))
	}
	if w.Secret == "" {
		bad("secret", "is required: a Standard Webhooks secret such as whsec_<base64> (`hookhub secret` makes one)")
	} else if _, err := signature.ParseSecret(w.Secret.Reveal()); err != nil {
		bad("secret", "must be whsec_ followed by base64 (the value is not shown)")
	}
	for j, p := range w.PreviousSecrets {
		if _, err := signature.ParseSecret(p.Secret.Reveal()); err != nil {
			bad(fmt.Sprintf("previous_secrets[%d].secret", j), "must be whsec_ followed by base64 (the value is not shown)")
		}
	}
	if w.Retry != nil {
		for j, r := range w.Retry.Schedule {
			if r.D() < 0 {
				bad(fmt.Sprintf("retry.schedule[%d]", j), "must not be negative")
			}
		}
	}
	if w.Signs("v1a") && len(c.SigningKeys(w.Account)) == 0 {
		bad("signatures", "v1a needs a signing key: set signing_keys on account %q or delivery.signing_keys (`hookhub secret --v1a` makes one)", w.Account)
	}
	if w.Batch != nil && w.Ordering != nil {
		bad("ordering", "cannot be combined with batch: a batch is retried as a whole, so one key's failure would hold back the others")
	}
	if w.Batch != nil && w.Batch.MaxWait.D() > MaxBatchWait {
		bad("batch.max_wait", "must be at most %s", MaxBatchWait)
	}
	if a := w.Auth; a != nil && a.Type == "oauth2" && a.TokenURL != "" {
		if err := c.TargetPolicy().CheckURL(a.TokenURL); err != nil {
			bad("auth.token_url", "%s", strings.TrimPrefix(err.Error(), target.ErrRefused.Error()+": "))
		}
	}
	if tc := w.TLSClient; tc != nil {
		if _, err := tls.LoadX509KeyPair(c.Resolve(tc.CertFile), c.Resolve(tc.KeyFile)); err != nil {
			bad("tls_client", "cannot load the client certificate: %s", errors.Unwrap(err))
		}
	}
	for _, k := range sortedKeys(w.Headers) {
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			bad("headers."+strconv.Quote(k), "is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)")
		case ReservedHeader(k):
			bad("headers."+k, "is set by the hub and cannot be configured")
		case !httpguts.ValidHeaderFieldValue(w.Headers[k]):
			bad("headers."+k, "holds a control character such as CR or LF, which no request may carry (the value is not shown)")
		}
	}
	if a := w.Auth; a != nil {
		for _, f := range []struct{ name, v string }{{"username", a.Username}, {"password", a.Password.Reveal()}, {"token", a.Token.Reveal()}} {
			if !httpguts.ValidHeaderFieldValue(f.v) {
				bad("auth."+f.name, "holds a control character such as CR or LF, which no request may carry (the value is not shown)")
			}
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SensitiveHeader reports whether a header's value is likely a credential
// (Authorization, or a name with key, token, secret, auth, pass, cookie or
// session in it): the hub masks such values in what it shows.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "webhook-signature" {
		return false
	}
	for _, s := range []string{"authorization", "key", "token", "secret", "auth", "pass", "cookie", "session", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// checkSigningKeys checks v1a keys, never showing them.
func checkSigningKeys(path string, keys []Secret, bad func(path, format string, args ...any)) {
	for j, k := range keys {
		if _, err := signature.ParseSigningKey(k.Reveal()); err != nil {
			bad(fmt.Sprintf("%s[%d]", path, j), "must be whsk_ followed by the base64 of an ed25519 seed (the value is not shown)")
		}
	}
}
