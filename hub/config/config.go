// Package config is hookhub's configuration: the types, and Load, which reads
// a JSON config file, validates it against schemas/config.schema.json, reads
// ${env:NAME} references, overlays HOOKHUB_ environment variables (they win)
// and checks what a schema cannot.
package config

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// Defaults.
const (
	DefaultNATSListen    = "127.0.0.1:4222"
	DefaultDataDir       = "./data"
	DefaultAPIAddr       = "127.0.0.1:8080"
	DefaultSubjectPrefix = "hookhub"
	DefaultWebhookLimit  = 40
	// DefaultConcurrency bounds deliveries in flight per hub. A request
	// waiting on a slow receiver costs memory (a goroutine and a
	// connection's buffers), not CPU, and by Little's law 10,000
	// deliveries/s to receivers that take 200 ms need 2,000 in flight; with
	// 256, a few hanging endpoints' per-webhook shares (16 each) took most
	// of the slots from every other webhook until they timed out.
	DefaultConcurrency           = 4096
	DefaultPerWebhookConcurrency = 16
	DefaultResponseExcerptBytes  = 2048
	DefaultConnectTimeout        = 5 * time.Second
	DefaultTimeout               = 15 * time.Second
	DefaultJitter                = 0.2
	DefaultPluginMemoryMiB       = 16
	DefaultPluginTimeout         = 100 * time.Millisecond
)

// DefaultSchedule is the delay before each retry when a webhook sets none:
// as Svix, a few seconds, then minutes, up to about a day in all.
var DefaultSchedule = []Duration{
	Duration(5 * time.Second), Duration(5 * time.Minute), Duration(30 * time.Minute),
	Duration(2 * time.Hour), Duration(5 * time.Hour), Duration(10 * time.Hour), Duration(10 * time.Hour),
}

// Values of Config.Procs.
const (
	ProcsAdaptive = "adaptive"
	ProcsFixed    = "fixed"
)

// Config is the whole configuration of one hub process.
type Config struct {
	Schema     string `json:"$schema,omitempty"`
	NATSURL    string `json:"nats_url,omitempty" env:"NATS_URL"`
	NATSListen string `json:"nats_listen,omitempty" env:"NATS_LISTEN"`
	// NATSUsers are the logins of the embedded server. With any, a client
	// must log in (anonymous clients are refused), and a publisher may only
	// publish its own account's events. Required on a non-loopback
	// nats_listen.
	NATSUsers []NATSUser `json:"nats_users,omitempty"`
	// NATSUser, NATSPassword and NATSCreds are how the hub logs in to an
	// outside NATS (nats_url): a user and password, or a .creds file (JWT
	// and nkey seed).
	NATSUser     string `json:"nats_user,omitempty" env:"NATS_USER"`
	NATSPassword Secret `json:"nats_password,omitempty" env:"NATS_PASSWORD"`
	NATSCreds    string `json:"nats_creds,omitempty" env:"NATS_CREDS"`
	// NATSSync is when the embedded server writes its JetStream files
	// through to the disk (fsync): "interval" (the default, NATS's every 2
	// minutes), a duration such as "1s" (that often), or "always" (before a
	// write is acknowledged). See SyncPolicy.
	NATSSync string `json:"nats_sync,omitempty" env:"NATS_SYNC"`
	// SecretsKey is one or more base64 AES-256 keys, comma-separated: the
	// first encrypts the webhook secrets the hub stores (and, with the
	// embedded server, the JetStream files), every one decrypts.
	SecretsKey Secret `json:"secrets_key,omitempty" env:"SECRETS_KEY"`
	DataDir    string `json:"data_dir,omitempty" env:"DATA_DIR"`
	APIAddr    string `json:"api_addr,omitempty" env:"API_ADDR"`
	APIToken   Secret `json:"api_token,omitempty" env:"API_TOKEN"`
	// APIAllowedHosts are the Host header values the management API
	// answers (host or host:port); empty: the address it listens on, and
	// localhost, 127.0.0.1 and [::1] on its port. They stop DNS rebinding.
	APIAllowedHosts []string `json:"api_allowed_hosts,omitempty" env:"API_ALLOWED_HOSTS"`
	// APICORSOrigins are the web origins (scheme://host[:port]) whose pages
	// may call the management API; none by default.
	APICORSOrigins []string `json:"api_cors_origins,omitempty" env:"API_CORS_ORIGINS"`
	SubjectPrefix  string   `json:"subject_prefix,omitempty" env:"SUBJECT_PREFIX"`
	// StreamReplicas of every stream and bucket: 1, or 3 on a NATS cluster.
	StreamReplicas int `json:"stream_replicas,omitempty" env:"STREAM_REPLICAS"`
	// EventRetention is how long matched events are kept for resends.
	EventRetention Duration `json:"event_retention,omitempty" env:"EVENT_RETENTION"`
	// AttemptRetention and AttemptLogMaxBytes bound the attempt log, and
	// DeadLetterRetention and DeadLetterMaxBytes the dead letters: past
	// either bound, the oldest records go first (0: the default).
	AttemptRetention    Duration `json:"attempt_retention,omitempty" env:"ATTEMPT_RETENTION"`
	AttemptLogMaxBytes  int64    `json:"attempt_log_max_bytes,omitempty" env:"ATTEMPT_LOG_MAX_BYTES"`
	DeadLetterRetention Duration `json:"dead_letter_retention,omitempty" env:"DEAD_LETTER_RETENTION"`
	DeadLetterMaxBytes  int64    `json:"dead_letter_max_bytes,omitempty" env:"DEAD_LETTER_MAX_BYTES"`
	LogLevel            string   `json:"log_level,omitempty" env:"LOG_LEVEL"`
	LogFormat           string   `json:"log_format,omitempty" env:"LOG_FORMAT"`
	// Procs is how hookhub serve sets Go's GOMAXPROCS: ProcsAdaptive (the
	// default: one P while the process uses little CPU, all of them under
	// load; see hub/internal/procs) or ProcsFixed (Go's own). A set
	// GOMAXPROCS environment variable always wins. A program that embeds
	// the hub package is not affected.
	Procs string `json:"procs,omitempty" env:"PROCS"`

	// EventTypes declares custom event types for every account.
	EventTypes []EventType `json:"event_types,omitempty"`
	// AcceptUndeclaredTypes restores the old behaviour for types outside
	// the catalog and the declarations: their events are delivered
	// unchecked, and webhooks may name them (names under the catalog's own
	// namespaces, email. or contact. say, must still be in it).
	AcceptUndeclaredTypes bool `json:"accept_undeclared_types,omitempty" env:"ACCEPT_UNDECLARED_TYPES"`

	Accounts []Account `json:"accounts,omitempty"`
	Plugins  []Plugin  `json:"plugins,omitempty"`
	Delivery Delivery  `json:"delivery"`
	Webhooks []Webhook `json:"webhooks,omitempty"`
	Console  Console   `json:"console,omitempty" envPrefix:"CONSOLE_"`

	// File is the path the config was read from ("" when none); relative
	// paths in it (plugins, ca_file) are resolved against its folder.
	File string `json:"-"`
}

// Account holds an account's own settings.
type Account struct {
	ID           string `json:"id"`
	WebhookLimit int    `json:"webhook_limit,omitempty"`
	// APIToken lets a caller use the management API for this account only.
	APIToken Secret `json:"api_token,omitempty"`
	// SigningKeys are ed25519 keys (whsk_...) for v1a signatures: the first
	// signs, all are published in the account's JWKS.
	SigningKeys []Secret `json:"signing_keys,omitempty"`
	// EventTypes declares custom event types for this account only.
	EventTypes []EventType `json:"event_types,omitempty"`
}

// NATSUser is a login of the embedded NATS server: a publisher for one
// account (it may publish on <prefix>.events.<account>.> and receive the
// acks, nothing else), or an admin (everything, for operators' tools).
type NATSUser struct {
	User     string `json:"user"`
	Password Secret `json:"password"`
	Account  string `json:"account,omitempty"`
	Admin    bool   `json:"admin,omitempty"`
}

// Plugin is a WebAssembly transform module.
type Plugin struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	SHA256    string `json:"sha256,omitempty"`
	MemoryMiB int    `json:"memory_mib,omitempty"`
	TimeoutMS int    `json:"timeout_ms,omitempty"`
	// Isolation is where the module runs: "in_process" (the default) or
	// "process" (worker processes).
	Isolation string `json:"isolation,omitempty"`
}

// Timeout is the plugin's time limit per call.
func (p Plugin) Timeout() time.Duration {
	if p.TimeoutMS <= 0 {
		return DefaultPluginTimeout
	}
	return time.Duration(p.TimeoutMS) * time.Millisecond
}

// Console configures the web console and the account portal.
type Console struct {
	// FrameAncestors are the origins (scheme://host[:port]) allowed to
	// frame the account portal at /portal/ (its Content-Security-Policy
	// frame-ancestors); none by default. The operator console is never
	// framable.
	FrameAncestors []string `json:"frame_ancestors,omitempty" env:"FRAME_ANCESTORS"`
}

// Delivery is how the hub sends requests.
type Delivery struct {
	// SigningKeys are the v1a keys of accounts without their own.
	SigningKeys          []Secret `json:"signing_keys,omitempty"`
	AllowInsecureTargets bool     `json:"allow_insecure_targets,omitempty" env:"ALLOW_INSECURE_TARGETS"`
	AllowedPorts         []int    `json:"allowed_ports,omitempty"`
	ConnectTimeout       Duration `json:"connect_timeout,omitempty"`
	Timeout              Duration `json:"timeout,omitempty"`
	CAFile               string   `json:"ca_file,omitempty"`
	EgressRanges         []string `json:"egress_ranges,omitempty"`
	// EgressRangesUpdated is when EgressRanges last changed (RFC 3339), as
	// /ip-ranges publishes it; without it, the config file's modification
	// time.
	EgressRangesUpdated   string   `json:"egress_ranges_updated,omitempty"`
	AllowNetworks         []string `json:"allow_networks,omitempty"`
	ProxyURL              string   `json:"proxy_url,omitempty" env:"PROXY_URL"`
	SourceAddress         string   `json:"source_address,omitempty"`
	Concurrency           int      `json:"concurrency,omitempty"`
	PerWebhookConcurrency int      `json:"per_webhook_concurrency,omitempty"`
	PerHostConcurrency    int      `json:"per_host_concurrency,omitempty"`
	DisableAfter          Duration `json:"disable_after,omitempty"`
	ResponseExcerptBytes  int      `json:"response_excerpt_bytes,omitempty"`
	// HTTP2 lets deliveries use HTTP/2 where the receiver offers it. Off by
	// default: HTTP/1.1 keep-alive costs less CPU per request in Go's client
	// and gives each request in flight a connection of its own.
	HTTP2 bool `json:"http2,omitempty"`
	// DirectFirstAttempt makes an event's first attempt to a webhook
	// straight from the router when the webhook is idle and healthy in this
	// process, writing a job only when that attempt fails (its retry) or the
	// webhook is busy: one JetStream cycle per delivery instead of two. nil
	// means on (Direct).
	DirectFirstAttempt *bool `json:"direct_first_attempt,omitempty" env:"DELIVERY_DIRECT"`
	Retry              Retry `json:"retry"`
}

// Direct reports whether first attempts may go straight from the router
// (direct_first_attempt, on unless set to false).
func (d Delivery) Direct() bool { return d.DirectFirstAttempt == nil || *d.DirectFirstAttempt }

// Retry is a retry schedule.
type Retry struct {
	// Schedule is the delay before each retry: len(Schedule) retries, so
	// len(Schedule)+1 attempts in all. nil means the default.
	Schedule []Duration `json:"schedule,omitempty"`
	// Jitter is the share of each delay drawn at random (0 to 1).
	Jitter *float64 `json:"jitter,omitempty"`
}

// MarshalJSON keeps an empty schedule (no retries) apart from none (the
// default): omitempty would write neither, and a webhook stored through the
// API would come back with the default retries.
func (r Retry) MarshalJSON() ([]byte, error) {
	out := struct {
		Schedule *[]Duration `json:"schedule,omitempty"`
		Jitter   *float64    `json:"jitter,omitempty"`
	}{Jitter: r.Jitter}
	if r.Schedule != nil {
		out.Schedule = &r.Schedule
	}
	return json.Marshal(out)
}

// Webhook is one destination and what it receives.
type Webhook struct {
	ID          string   `json:"id"`
	Account     string   `json:"account"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	URL         string   `json:"url"`
	Active      *bool    `json:"active,omitempty"`
	Events      []string `json:"events"`
	Initiators  []string `json:"initiators,omitempty"`
	// ExcludeImports leaves out events caused by an import (via "import").
	ExcludeImports bool              `json:"exclude_imports,omitempty"`
	Lists          []string          `json:"lists,omitempty"`
	Auth           *Auth             `json:"auth,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	Secret         Secret            `json:"secret,omitempty"`
	// PreviousSecrets still sign requests, beside Secret, until they expire:
	// the grace period of a rotation.
	PreviousSecrets []PreviousSecret `json:"previous_secrets,omitempty"`
	// Signatures are the schemes signing each request: v1 (the default), v1a.
	Signatures []string   `json:"signatures,omitempty"`
	Plugin     *PluginRef `json:"plugin,omitempty"`
	Retry      *Retry     `json:"retry,omitempty"`
	Batch      *Batch     `json:"batch,omitempty"`
	Ordering   *Ordering  `json:"ordering,omitempty"`
	RateLimit  *RateLimit `json:"rate_limit,omitempty"`
	// TLSClient is a client certificate the hub presents to this receiver (mTLS).
	TLSClient *TLSClient `json:"tls_client,omitempty"`
}

// TLSClient is a client certificate and its key: PEM files (relative to the
// config file; only in the config file, never through the API), or the PEM
// text itself. Load reads the files into CertPEM and KeyPEM, so the hub only
// ever presents what those hold.
type TLSClient struct {
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	CertPEM  string `json:"cert_pem,omitempty"`
	// KeyPEM is the private key: a secret, masked wherever it is shown.
	KeyPEM Secret `json:"key_pem,omitempty"`
}

// RateLimit bounds the requests per second to a webhook, per hub process.
type RateLimit struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst,omitempty"`
}

// PreviousSecret is a rotated-out secret and the end of its grace period.
type PreviousSecret struct {
	Secret  Secret    `json:"secret"`
	Expires time.Time `json:"expires"`
}

// DefaultRotationGrace is how long a rotated-out secret keeps signing.
const DefaultRotationGrace = 24 * time.Hour

// Batch makes a webhook send events in batches.
type Batch struct {
	MaxEvents int      `json:"max_events,omitempty"`
	MaxWait   Duration `json:"max_wait,omitempty"`
}

// Ordering makes a webhook receive the events of one key in publish order.
type Ordering struct {
	// Key is where the key is read: data.<field>[.<field>...], or one of
	// the envelope's subject, type, source, account, initiator, id.
	Key string `json:"key"`
}

// Batch defaults and bounds.
const (
	DefaultBatchEvents = 100
	DefaultBatchWait   = time.Second
	MaxBatchWait       = 30 * time.Second
)

// IsActive reports whether the webhook receives events (the default).
func (w *Webhook) IsActive() bool { return w.Active == nil || *w.Active }

// Auth is how the hub authenticates to a receiver.
type Auth struct {
	Type     string `json:"type"` // none, basic, token, oauth2
	Username string `json:"username,omitempty"`
	Password Secret `json:"password,omitempty"`
	Token    Secret `json:"token,omitempty"`
	// OAuth 2.0 client credentials: the hub fetches a token from TokenURL,
	// keeps it until it expires and sends it as a bearer token.
	TokenURL     string   `json:"token_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret Secret   `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

// PluginRef names a webhook's plugin and gives it its config.
type PluginRef struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config,omitempty"`
}

// Secret is a string that never shows itself: it prints and marshals as
// [redacted]. Reveal is the one way out.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string { return redacted }

// GoString keeps %#v from showing the secret.
func (s Secret) GoString() string { return redacted }

// Format keeps every fmt verb from showing the secret.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON writes "[redacted]", or "" for an empty secret.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte(`""`), nil
	}
	return []byte(`"` + redacted + `"`), nil
}

// UnmarshalJSON reads a secret from a JSON string.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("secret must be a string")
	}
	*s = Secret(v)
	return nil
}

// UnmarshalText reads a secret from the environment.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// Duration is a time.Duration written as a Go duration string ("5s").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5s" and the like.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json leaves other values
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"5s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: must be such as 500ms, 5s, 2h, and at most %s", s, time.Duration(math.MaxInt64).Truncate(time.Hour))
	}
	*d = Duration(v)
	return nil
}

// UnmarshalText reads a duration from the environment.
func (d *Duration) UnmarshalText(b []byte) error {
	return d.UnmarshalJSON([]byte(`"` + string(b) + `"`))
}

// SigningKeys are the v1a keys of an account: its own, or the hub's default.
func (c *Config) SigningKeys(account string) []Secret {
	for _, a := range c.Accounts {
		if a.ID == account && len(a.SigningKeys) > 0 {
			return a.SigningKeys
		}
	}
	return c.Delivery.SigningKeys
}

// Signs reports whether the webhook signs with scheme (v1 or v1a); with no
// signatures listed, it signs with v1.
func (w *Webhook) Signs(scheme string) bool {
	if len(w.Signatures) == 0 {
		return scheme == "v1"
	}
	return slices.Contains(w.Signatures, scheme)
}
