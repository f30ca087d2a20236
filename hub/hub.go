// Package hub is hookhub as a library: New wires the parts together from a
// config, Run runs them until its context ends, Close releases them.
//
//	cfg, err := config.Load("hookhub.json", env)
//	h, err := hub.New(cfg, hub.WithLogger(log))
//	defer h.Close()
//	err = h.Run(ctx) // until ctx is cancelled: in-flight deliveries finish first
package hub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/admin"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/console"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/deliverylog"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/health"
	"github.com/hookhub/hookhub/hub/internal/metrics"
	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/portal"
	"github.com/hookhub/hookhub/hub/internal/routing"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// Version is the hub's version, sent in the User-Agent of every delivery.
var Version = "0.1.0-dev"

// Option changes how New builds a hub.
type Option func(*options)

type options struct {
	log          zerolog.Logger
	pluginWorker []string
	pluginCache  string
}

// WithLogger sets the logger (the default discards everything).
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithPluginWorker sets the command that starts a plugin worker process: a
// program that calls the plugin host's ServeWorker on its stdin and stdout,
// such as the hookhub command's hidden "plugin worker" subcommand
// (os.Executable(), "plugin", "worker"). The config's WebAssembly plugins
// whose isolation is "process" run in such workers, which the hub kills at
// their time limit; they need it. The others run in the hub's process. The
// hub never starts a program it is not given.
func WithPluginWorker(cmd ...string) Option {
	return func(o *options) { o.pluginWorker = cmd }
}

// WithPluginCache sets the folder that keeps compiled plugin modules (wazero's
// compilation cache) and the js plugin's engine built from source, instead
// of <data_dir>/plugin-cache. Hubs and processes may share one: what one
// compiled or built, the others read. Tests set it (hubtest does, to
// $TMPDIR/hookhub-plugin-cache) so that the js engine is built and compiled
// once per machine, not once per hub.
func WithPluginCache(dir string) Option {
	return func(o *options) { o.pluginCache = dir }
}

// startTimeout bounds starting a hub (loading its plugins, opening its
// streams), and checking a config's plugins (Validate).
const startTimeout = 60 * time.Second

// Hub is one hookhub process's worth of hub.
type Hub struct {
	cfg       *config.Config
	log       zerolog.Logger
	bus       *bus.Bus
	registry  *webhooks.Registry
	router    *routing.Router
	engine    *delivery.Engine
	health    *health.Tracker
	plugins   *pluginhost.Host
	metrics   *metrics.Metrics
	store     *webhooks.Store
	typeStore *eventtypes.Store
	api       *admin.Server
	console   *console.Console // nil when the API is off
	// deliveryLog is what the API reads the delivery log through.
	deliveryLog *deliverylog.JetStream
	apiLn       net.Listener

	once     sync.Once
	closeErr error
}

// New connects to NATS (or starts the embedded server), creates the streams
// and consumers, and prepares the router and the delivery engine.
func New(cfg *config.Config, opts ...Option) (*Hub, error) {
	o := options{log: zerolog.Nop()}
	for _, opt := range opts {
		opt(&o)
	}
	h := &Hub{cfg: cfg, log: o.log}
	reg, err := webhooks.NewRegistry(cfg)
	if err != nil {
		return nil, err
	}
	h.registry = reg
	roots, err := rootCAs(cfg)
	if err != nil {
		return nil, err
	}
	set, err := schemacheck.Default()
	if err != nil {
		return nil, err
	}
	types, err := eventtypes.New(cfg, set)
	if err != nil {
		return nil, err
	}
	// Making the js plugin's engine (a go build) may use the plugins' whole
	// start time: the rest gets its own.
	pctx, pcancel := context.WithTimeout(context.Background(), startTimeout)
	cacheDir := o.pluginCache
	if cacheDir == "" {
		cacheDir = pluginCacheDir(cfg)
	}
	h.plugins, err = newPlugins(pctx, cfg, cacheDir, o.pluginWorker, o.log)
	pcancel()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	fail := func(err error) (*Hub, error) { _ = h.Close(); return nil, err }
	bo, err := busOptions(cfg, o.log)
	if err != nil {
		return fail(err)
	}
	h.bus, err = bus.Open(ctx, bo)
	if err != nil {
		return fail(err)
	}
	if w := cfg.EgressWarning(); w != "" {
		o.log.Warn().Msg(w)
	}
	for _, w := range cfg.Warnings() {
		o.log.Warn().Msg(w)
	}
	if err := h.bus.Setup(ctx); err != nil {
		return fail(err)
	}
	if h.health, err = health.Open(ctx, h.bus, cfg.Delivery.DisableAfter.D(), o.log); err != nil {
		return fail(err)
	}
	if h.typeStore, err = eventtypes.OpenStore(ctx, h.bus.JS, cfg.SubjectPrefix+"_event_types", cfg.StreamReplicas, types, o.log); err != nil {
		return fail(err)
	}
	if h.store, err = webhooks.OpenStore(ctx, h.bus.JS, cfg.SubjectPrefix+"_webhooks", cfg.StreamReplicas, reg, cfg, o.log); err != nil {
		return fail(err)
	}
	var proxy *url.URL
	if cfg.Delivery.ProxyURL != "" {
		proxy, _ = url.Parse(cfg.Delivery.ProxyURL) // checked by config.Validate
	}
	src, _ := netip.ParseAddr(cfg.Delivery.SourceAddress)
	h.metrics = metrics.New(map[string]func() float64{
		"hookhub_jobs_waiting":    h.streamCount(h.bus.Names.DeliveriesStream, h.bus.Names.DeliveriesAll()),
		"hookhub_pending_retries": h.streamCount(h.bus.Names.DeliveriesStream, h.bus.Names.RetriesAll()),
		"hookhub_dead_letters":    h.streamCount(h.bus.Names.DLQStream, h.bus.Names.DeadLettersAll()),
		"hookhub_log_index_records": func() float64 {
			n, _ := h.DeliveryLogFootprint()
			return float64(n)
		},
		"hookhub_log_index_bytes": func() float64 {
			_, b := h.DeliveryLogFootprint()
			return float64(b)
		},
	})
	keys, err := delivery.ParseKeys(cfg)
	if err != nil {
		return fail(err)
	}
	h.router = routing.New(h.bus, reg, types, o.log, 0, h.metrics)
	h.engine = delivery.New(delivery.Options{
		Bus: h.bus, Webhooks: reg, Snapshots: reg, Types: types, Health: h.health, Transformer: timedPlugins{h.plugins, h.metrics}, Metrics: h.metrics,
		PluginSecrets: h.plugins.SecretFields,
		Policy:        cfg.TargetPolicy(), RootCAs: roots, ProxyURL: proxy, SourceAddr: src,
		ConnectTimeout: cfg.Delivery.ConnectTimeout.D(), Timeout: cfg.Delivery.Timeout.D(), HTTP2: cfg.Delivery.HTTP2,
		Concurrency: cfg.Delivery.Concurrency, PerWebhook: cfg.Delivery.PerWebhookConcurrency, PerHost: cfg.Delivery.PerHostConcurrency,
		ExcerptBytes: cfg.Delivery.ResponseExcerptBytes, UserAgent: "hookhub/" + Version, Keys: keys, Log: o.log,
	})
	if cfg.Delivery.Direct() {
		var direct routing.Direct = h.engine
		h.router.UseDirect(direct, 0)
	}
	if cfg.APIAddr != "off" {
		h.deliveryLog = deliverylog.NewJetStream(h.bus, o.log)
		links, err := portal.OpenLinks(ctx, h.bus.JS, cfg.SubjectPrefix+"_portal_links", cfg.StreamReplicas)
		if err != nil {
			return fail(err)
		}
		h.api, err = admin.New(admin.Deps{Config: cfg, Bus: h.bus, Registry: reg, Store: h.store, Health: h.health, DeliveryLog: h.deliveryLog,
			Types: types, TypeStore: h.typeStore,
			CheckPlugin: h.plugins.ValidateConfig, PluginSecrets: h.plugins.SecretFields, Tester: h.engine, Preview: previewer(h.plugins, keys),
			Metrics: h.metrics.Registry, PublicKeys: keys.PublicKeys, PortalLinks: links, Log: o.log})
		if err != nil {
			return fail(err)
		}
		sessions, err := portal.OpenSessions(ctx, h.bus.JS, cfg.SubjectPrefix+"_console_sessions", cfg.StreamReplicas,
			max(console.DefaultSessionTTL, console.PortalSessionTTL))
		if err != nil {
			return fail(err)
		}
		con, err := console.New(console.Options{API: h.api.Handler(), Config: cfg, Links: links, Sessions: sessions, Plugins: h.plugins.Names, Log: o.log})
		if err != nil {
			return fail(err)
		}
		h.api.Mount(console.Path, con)
		h.console = con
		h.api.Mount(console.PortalPath, con.Portal())
		if h.apiLn, err = net.Listen("tcp", cfg.APIAddr); err != nil {
			return fail(fmt.Errorf("api: listen on %s: %w", cfg.APIAddr, err))
		}
	}
	return h, nil
}

// busOptions are the NATS settings of cfg: the embedded server's users and,
// with secrets_key, the key of its JetStream files (derived from the first
// key; the second is the old one while rotating).
func busOptions(cfg *config.Config, log zerolog.Logger) (bus.Options, error) {
	o := bus.Options{
		URL: cfg.NATSURL, Listen: cfg.NATSListen, DataDir: cfg.DataDir, Prefix: cfg.SubjectPrefix,
		Name: "hookhub", Replicas: cfg.StreamReplicas, EventRetention: cfg.EventRetention.D(), Log: log,
		Limits: bus.LogLimits{AttemptsMaxAge: cfg.AttemptRetention.D(), AttemptsMaxBytes: cfg.AttemptLogMaxBytes,
			DLQMaxAge: cfg.DeadLetterRetention.D(), DLQMaxBytes: cfg.DeadLetterMaxBytes},
		User: cfg.NATSUser, Password: cfg.NATSPassword.Reveal(), Creds: cfg.NATSCreds,
	}
	for _, u := range cfg.NATSUsers {
		o.Users = append(o.Users, bus.User{Name: u.User, Password: u.Password.Reveal(), Account: u.Account, Admin: u.Admin})
	}
	keys, err := cfg.SecretsKeys()
	if err != nil {
		return o, fmt.Errorf("secrets_key: %w", err)
	}
	if cfg.NATSURL == "" {
		if o.SyncAlways, o.SyncInterval, err = cfg.SyncPolicy(); err != nil {
			return o, fmt.Errorf("nats_sync: %w", err)
		}
		if len(keys) > 0 {
			o.StoreKey = storeKey(keys[0])
		}
		if len(keys) > 1 {
			o.StoreOldKey = storeKey(keys[1])
		}
		if cfg.NATSUser != "" || cfg.NATSCreds != "" {
			log.Warn().Msg("nats_user and nats_creds log the hub in to an outside NATS (nats_url) and are ignored by the embedded server: its logins are nats_users")
		}
	}
	return o, nil
}

// storeKey is the embedded server's JetStream key made from a secrets key
// (not the key itself, which also encrypts the webhook secrets).
func storeKey(k config.SecretsKey) string {
	m := hmac.New(sha256.New, k.Key[:])
	m.Write([]byte("hookhub jetstream store key"))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

func rootCAs(cfg *config.Config) (*x509.CertPool, error) {
	if cfg.Delivery.CAFile == "" {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	path := cfg.Resolve(cfg.Delivery.CAFile)
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("delivery.ca_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("delivery.ca_file: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// Run routes and delivers until ctx is done. Then it stops taking new work,
// lets the deliveries in flight finish, and returns.
func (h *Hub) Run(ctx context.Context) error {
	h.log.Info().Int("webhooks", h.registry.Snapshot().Len()).Str("nats", h.NATSURL()).
		Str("prefix", h.cfg.SubjectPrefix).Msg("hub running")
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return h.router.Run(ctx) })
	g.Go(func() error { return h.engine.Run(ctx) })
	g.Go(func() error { return h.health.Run(ctx) })
	g.Go(func() error { return h.store.Run(ctx) })
	g.Go(func() error { return h.typeStore.Run(ctx) })
	g.Go(func() error { return h.bus.RunKeepers(ctx) })
	if h.api != nil {
		g.Go(func() error { return h.deliveryLog.Run(ctx) })
		g.Go(func() error { return h.api.Serve(ctx, h.apiLn) })
	}
	err := g.Wait()
	h.log.Info().Msg("hub stopped")
	return err
}

// DeliveryLogFootprint is how many records the API's index of the
// delivery log holds and about how many bytes it takes (0, 0 without an
// API).
func (h *Hub) DeliveryLogFootprint() (records, bytes int) {
	if h.deliveryLog == nil {
		return 0, 0
	}
	return h.deliveryLog.Footprint()
}

// Close releases the NATS connection and stops the embedded server. It is
// safe to call more than once.
func (h *Hub) Close() error {
	h.once.Do(func() {
		if h.apiLn != nil {
			_ = h.apiLn.Close()
		}
		if h.bus != nil {
			h.bus.Close()
		}
		if h.plugins != nil {
			h.closeErr = h.plugins.Close(context.Background())
		}
	})
	return h.closeErr
}

// NATSURL is where outside publishers reach the embedded NATS server ("" when
// the hub uses an outside server or the embedded one listens on no address).
func (h *Hub) NATSURL() string {
	if h.bus.Server == nil {
		return h.cfg.NATSURL
	}
	return h.bus.ClientURL()
}

// Snapshot is the current set of webhooks (config file and run time).
func (h *Hub) Snapshot() *webhooks.Snapshot { return h.registry.Snapshot() }

// APIURL is the management API's base URL ("" when it is off).
func (h *Hub) APIURL() string {
	if h.apiLn == nil {
		return ""
	}
	return "http://" + h.apiLn.Addr().String()
}

// ConsoleURL is the web console's address ("" when the API is off).
func (h *Hub) ConsoleURL() string {
	if h.apiLn == nil {
		return ""
	}
	return h.APIURL() + console.Path
}

// ConsoleSignInLink makes a single-use link, valid for ttl (at most an
// hour), that signs a browser in to the web console as the operator: the
// demo prints one. The link is the full URL.
func (h *Hub) ConsoleSignInLink(ctx context.Context, ttl time.Duration) (string, error) {
	if h.console == nil || h.apiLn == nil {
		return "", errors.New("hub: the API, and so the console, is off")
	}
	p, err := h.console.SignInLink(ctx, ttl)
	if err != nil {
		return "", err
	}
	return h.APIURL() + p, nil
}

// Conn is the hub's own NATS connection.
func (h *Hub) Conn() *nats.Conn { return h.bus.NC }

// JetStream is the hub's JetStream context.
func (h *Hub) JetStream() jetstream.JetStream { return h.bus.JS }

// EnableWebhook clears a webhook the hub disabled (after a 410 Gone, or
// failing for too long). Its jobs of the disabled span are in the dead
// letters, from where they can be redriven.
func (h *Hub) EnableWebhook(ctx context.Context, id string) error { return h.health.Enable(ctx, id) }

// WebhookHealth is what the hub knows of a webhook's health.
func (h *Hub) WebhookHealth(id string) health.State { return h.health.Get(id) }

// Stats is a snapshot of the hub's counters.
type Stats struct {
	Events, Jobs, Rejected                                      int64
	Delivered, Failed, Retried, DeadLettered, Skipped, Deferred int64
	// Redelivered counts jobs JetStream handed out again while this hub
	// held them (a late ack or renewal): dropped, not delivered twice.
	Redelivered int64
	// Direct counts first attempts made without a job
	// (delivery.direct_first_attempt).
	Direct int64
}

// Stats returns the counters of this process since it started.
func (h *Hub) Stats() Stats {
	r, e := &h.router.Stats, &h.engine.Stats
	return Stats{
		Events: r.Events.Load(), Jobs: r.Jobs.Load(), Rejected: r.Rejected.Load(),
		Delivered: e.Delivered.Load(), Failed: e.Failed.Load(), Retried: e.Retried.Load(),
		DeadLettered: e.DeadLettered.Load(), Skipped: e.Skipped.Load(), Deferred: e.Deferred.Load(),
		Redelivered: e.Redelivered.Load(),
		Direct:      r.Direct.Load(),
	}
}

// streamCount reads how many messages a stream holds on subjects matching
// filter, for a gauge; it answers 0 when NATS does not.
func (h *Hub) streamCount(stream, filter string) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := h.bus.JS.Stream(ctx, stream)
		if err != nil {
			return 0
		}
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
		if err != nil {
			return 0
		}
		var n uint64
		for _, c := range info.State.Subjects {
			n += c
		}
		return float64(n)
	}
}
