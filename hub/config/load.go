package config

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"golang.org/x/net/http/httpguts"

	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/target"
	"github.com/hookhub/hookhub/plugins"
	"github.com/hookhub/hookhub/schemas"
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

// MaxFileSize is the largest config file Load reads (16 MiB): ample for
// tens of thousands of webhooks, and a bound on the memory a mistaken path
// (a log file, a device) can take.
const MaxFileSize = 16 << 20

// Load reads the config file at path ("" for none), checks it against its
// schema, resolves ${env:NAME} from environ, overlays HOOKHUB_ variables from
// environ, fills defaults and validates the result. All errors are returned at
// once, joined, each a *FieldError. A file larger than MaxFileSize is refused
// without being read whole.
func Load(path string, environ map[string]string) (*Config, error) {
	raw := []byte("{}")
	name := ""
	if path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, err
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

// readFile reads the config file at path, at most MaxFileSize bytes of it.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FieldError{File: path, Msg: "cannot read: " + unwrapPathErr(err)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &FieldError{File: path, Msg: "cannot read: " + unwrapPathErr(err)}
	}
	if len(b) > MaxFileSize {
		return nil, &FieldError{File: path, Msg: fmt.Sprintf("is larger than %d MiB, the most a config file may be", MaxFileSize>>20)}
	}
	return b, nil
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
		expanded, xerrs := expandEnv(name, raw, environ)
		if len(xerrs) > 0 {
			return nil, errors.Join(append(errs, xerrs...)...)
		}
		for _, err := range looseValidate(name, expanded, seen) {
			var fe *FieldError
			if errors.As(err, &fe) && !seen[fe.Path] && !under(fe.Path, seen) {
				errs = append(errs, err)
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
		// A value the schema let through and Go cannot read (a duration
		// too long for it, say): find where, and say what else is wrong.
		errs := decodeErrors(name, expanded)
		if len(errs) == 0 {
			return nil, &FieldError{File: name, Msg: err.Error()}
		}
		seen := map[string]bool{}
		for _, err := range errs {
			seen[err.(*FieldError).Path] = true
		}
		for _, err := range looseValidate(name, expanded, seen) {
			var fe *FieldError
			if errors.As(err, &fe) && !seen[fe.Path] && !under(fe.Path, seen) {
				errs = append(errs, err)
			}
		}
		return nil, errors.Join(errs...)
	}
	if err := env.ParseWithOptions(&c, env.Options{Prefix: "HOOKHUB_", Environment: environ}); err != nil {
		return nil, &FieldError{File: "environment", Msg: envError(err, environ)}
	}
	if errs := emptyTokens(name, expanded, environ, &c); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.fillDefaults()
	c.File = name
	errs = c.readClientCerts(name)
	if err := c.Validate(name); err != nil {
		errs = append(errs, flatten(err)...) // one flat list of FieldErrors
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
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

// looseValidate runs Validate on a document the schema refused, with the
// values it flagged (by path, in flagged) set aside, so that a value of the
// wrong type ("timeout": 5) does not hide the document's other mistakes. It
// first sets aside only flagged scalars, then flagged objects and arrays too;
// it returns nothing when even that cannot be decoded.
func looseValidate(name string, doc []byte, flagged map[string]bool) []error {
	for _, containers := range []bool{false, true} {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return nil
		}
		b, err := json.Marshal(setAside(v, nil, flagged, containers))
		if err != nil {
			return nil
		}
		var loose Config
		if json.Unmarshal(b, &loose) == nil {
			loose.fillDefaults()
			return flatten(loose.Validate(name))
		}
	}
	return nil
}

// decodeErrors finds the values of the document that do not decode into
// their field of Config, each as a *FieldError with its path.
func decodeErrors(name string, doc []byte) []error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	var errs []error
	var walk func(v any, t reflect.Type, path []string)
	walk = func(v any, t reflect.Type, path []string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		m, isMap := v.(map[string]any)
		a, isArray := v.([]any)
		switch {
		case reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()):
		case isMap && t.Kind() == reflect.Struct:
			fields := jsonFields(t)
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if ft, ok := fields[k]; ok {
					walk(m[k], ft, append(path, k))
				}
			}
			return
		case isMap && t.Kind() == reflect.Map:
			for _, k := range slices.Sorted(maps.Keys(m)) {
				walk(m[k], t.Elem(), append(path, k))
			}
			return
		case isArray && t.Kind() == reflect.Slice:
			for i, x := range a {
				walk(x, t.Elem(), append(path, strconv.Itoa(i)))
			}
			return
		}
		b, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(b, reflect.New(t).Interface())
		}
		if err != nil {
			errs = append(errs, &FieldError{File: name, Path: schemacheck.Path(path), Msg: err.Error()})
		}
	}
	walk(v, reflect.TypeFor[Config](), nil)
	return errs
}

// jsonFields are the fields of struct type t by their JSON names.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// setAside replaces by null the values of v at the flagged paths (never the
// document itself): only scalars, unless containers.
func setAside(v any, path []string, flagged map[string]bool, containers bool) any {
	switch t := v.(type) {
	case map[string]any:
		if len(path) > 0 && containers && flagged[schemacheck.Path(path)] {
			return nil
		}
		for k, x := range t {
			t[k] = setAside(x, append(path, k), flagged, containers)
		}
	case []any:
		if containers && flagged[schemacheck.Path(path)] {
			return nil
		}
		for i, x := range t {
			t[i] = setAside(x, append(path, strconv.Itoa(i)), flagged, containers)
		}
	default:
		if flagged[schemacheck.Path(path)] {
			return nil
		}
	}
	return v
}

// under reports whether path lies inside one of the paths in set.
func under(path string, set map[string]bool) bool {
	for p := range set {
		if p != "" && len(path) > len(p) && strings.HasPrefix(path, p) && (path[len(p)] == '.' || path[len(p)] == '[') {
			return true
		}
	}
	return false
}

// maxPEMFile bounds a client certificate or key file.
const maxPEMFile = 1 << 20

// readClientCerts reads the config file's tls_client files (relative to the
// config file) into cert_pem and key_pem: the hub presents only what those
// hold, so nothing outside the config file (the API) ever names a file.
// Errors name the webhook and the field, and say why.
func (c *Config) readClientCerts(name string) []error {
	var errs []error
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		tc := w.TLSClient
		if tc == nil || (tc.CertFile == "" && tc.KeyFile == "") {
			continue
		}
		out, failed := *tc, false
		for _, f := range []struct {
			field, path string
			into        func(string)
		}{
			{"cert_file", tc.CertFile, func(s string) { out.CertPEM = s }},
			{"key_file", tc.KeyFile, func(s string) { out.KeyPEM = Secret(s) }},
		} {
			b, err := readSmall(c.Resolve(f.path), maxPEMFile)
			if err != nil {
				errs = append(errs, &FieldError{File: name, Path: fmt.Sprintf("webhooks[%d].tls_client.%s", i, f.field),
					Msg: fmt.Sprintf("webhook %q: cannot read the file: %s", w.ID, err)})
				failed = true
				continue
			}
			f.into(string(b))
		}
		if !failed {
			w.TLSClient = &out
		}
	}
	return errs
}

// readSmall reads a regular file of at most limit bytes; its errors say why,
// without the path.
func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New(unwrapPathErr(err))
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, errors.New(unwrapPathErr(err))
	case !st.Mode().IsRegular():
		return nil, errors.New("not a regular file")
	case st.Size() > limit:
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, errors.New(unwrapPathErr(err))
	}
	return b, nil
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
	if c.Procs == "" {
		c.Procs = ProcsAdaptive
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
	errs = append(errs, c.checkNATS(name)...)
	if c.Procs != ProcsAdaptive && c.Procs != ProcsFixed {
		bad("procs", "%q is neither %s nor %s", c.Procs, ProcsAdaptive, ProcsFixed)
	}
	if _, err := c.SecretsKeys(); err != nil {
		bad("secrets_key", "%s", err.Error())
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
	if u := c.Delivery.EgressRangesUpdated; u != "" {
		if _, err := time.Parse(time.RFC3339, u); err != nil {
			bad("delivery.egress_ranges_updated", "%q is not an RFC 3339 time such as 2026-11-22T10:00:00Z", u)
		}
	}
	c.checkSync(bad)
	c.checkTokens(bad)
	c.checkDeclaredTypes(bad)
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
	for i, o := range c.Console.FrameAncestors {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || strings.ContainsAny(o, " ;,'") {
			bad(fmt.Sprintf("console.frame_ancestors[%d]", i), "%q is not an origin such as https://app.example.com", o)
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
	// Lowered into a buffer on the stack: strings.ToLower allocated for every
	// name with a capital, once per header of each plugin's answer.
	var buf [len("proxy-authorization")]byte
	if len(name) > len(buf) {
		return false
	}
	lower := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 { // Unicode lowers some letters to ASCII ones (K, the Kelvin sign, to k)
			lower = []byte(strings.ToLower(name))
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(lower) {
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
// webhooks[3]), never a secret's value. Its events may name the types
// declared in the config and more (declared through the API).
func (c *Config) CheckWebhook(file, at string, w Webhook, more ...schemas.EventType) []error {
	var errs []error
	bad := func(path, format string, args ...any) {
		if at != "" {
			path = at + "." + path
		}
		errs = append(errs, &FieldError{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	c.checkEvents(w, more, bad)
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
	if w.Batch != nil && w.Plugin != nil && c.oneEventPlugin(w.Plugin.Name) {
		bad("batch", "cannot be used with plugin %q: it sends one event per request, so every batch would fail (remove batch, or choose a plugin that takes a batch)", w.Plugin.Name)
	}
	if w.Batch != nil && w.Batch.MaxWait.D() > MaxBatchWait {
		bad("batch.max_wait", "must be at most %s", MaxBatchWait)
	}
	if a := w.Auth; a != nil && a.Type == "oauth2" && a.TokenURL != "" {
		if err := c.TargetPolicy().CheckURL(a.TokenURL); err != nil {
			bad("auth.token_url", "%s", strings.TrimPrefix(err.Error(), target.ErrRefused.Error()+": "))
		}
	}
	if tc := w.TLSClient; tc != nil && (tc.CertPEM != "" || tc.KeyPEM != "") {
		if field, msg := CheckKeyPair(tc.CertPEM, tc.KeyPEM.Reveal()); msg != "" {
			if tc.CertFile != "" { // read from the files: name the field the config file has
				field = strings.Replace(field, "_pem", "_file", 1)
			}
			bad("tls_client."+field, "%s", msg)
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

// oneEventPlugin reports whether the plugin named is a first-party one that
// sends one event per request (a module in plugins[] of that name replaces it).
func (c *Config) oneEventPlugin(name string) bool {
	for _, p := range c.Plugins {
		if p.Name == name {
			return false
		}
	}
	return plugins.FirstParty[name].OneEvent
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkSigningKeys checks v1a keys, never showing them.
func checkSigningKeys(path string, keys []Secret, bad func(path, format string, args ...any)) {
	for j, k := range keys {
		if _, err := signature.ParseSigningKey(k.Reveal()); err != nil {
			bad(fmt.Sprintf("%s[%d]", path, j), "must be whsk_ followed by the base64 of an ed25519 seed (the value is not shown)")
		}
	}
}

// CheckKeyPair checks a client certificate and its private key, both PEM:
// each parses, and the certificate is the key's. It returns the field at
// fault (cert_pem or key_pem) and why, "" when they are fine; it never shows
// either value.
func CheckKeyPair(certPEM, keyPEM string) (field, msg string) {
	if b, _ := pem.Decode([]byte(certPEM)); b == nil || b.Type != "CERTIFICATE" {
		return "cert_pem", "must be a PEM certificate (-----BEGIN CERTIFICATE-----)"
	}
	if b, _ := pem.Decode([]byte(keyPEM)); b == nil || !strings.HasSuffix(b.Type, "PRIVATE KEY") {
		return "key_pem", "must be a PEM private key (-----BEGIN PRIVATE KEY-----; the value is not shown)"
	}
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return "key_pem", "is not the key of the certificate (neither value is shown)"
		}
		return "key_pem", "the certificate or its key cannot be parsed: give a PEM certificate and its unencrypted PKCS#1, PKCS#8 or EC private key (neither value is shown)"
	}
	return "", ""
}

// envError says which variable each environment error is about: the env
// package names the Go field ("parse error on field "Concurrency" of type
// "int": ..."), which a user never wrote.
func envError(err error, environ map[string]string) string {
	errs := []error{err}
	var agg env.AggregateError
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, envVarError(e, environ))
	}
	return strings.Join(msgs, "; ")
}

func envVarError(err error, environ map[string]string) string {
	var pe env.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	var names []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			if key != "" && f.Name == pe.Name {
				if _, set := environ[prefix+key]; set {
					names = append(names, prefix+key)
				}
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if key == "" && ft.Kind() == reflect.Struct {
				walk(ft, prefix+f.Tag.Get("envPrefix"))
			}
		}
	}
	walk(reflect.TypeFor[Config](), "HOOKHUB_")
	if len(names) != 1 {
		return err.Error()
	}
	return fmt.Sprintf("%s: %v", names[0], pe.Err)
}
