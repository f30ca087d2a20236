// Package delivery sends delivery jobs to their webhooks: it consumes the
// deliveries stream, runs the webhook's plugin, signs and POSTs the request,
// and maps the outcome onto JetStream: ack on success, a scheduled retry by
// the webhook's backoff, or the dead-letter stream after the last attempt.
//
// No goroutine sleeps on a retry: a job waiting for its next attempt is a
// message in the deliveries stream, moved back to the job subjects when a
// scheduled wake-up for its second fires (see park.go). Work in flight is bounded per webhook, so
// one slow endpoint never holds up the others.
package delivery

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/metrics"
	"github.com/hookhub/hookhub/hub/internal/target"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/hub/internal/workpool"
	"github.com/hookhub/hookhub/sdk/abi"
)

// Transformer runs a webhook's plugin. pluginhost.Host is one.
type Transformer interface {
	Transform(ctx context.Context, plugin string, in *abi.Input) (*abi.Output, error)
}

// Health follows whether webhooks work; health.Tracker is one.
type Health interface {
	Disabled(webhook string) (bool, string)
	Succeeded(ctx context.Context, account, webhook string)
	Failed(ctx context.Context, account, webhook string, status int) (disabled bool)
	Exhausted(ctx context.Context, account, webhook, reason string)
}

// Lookup finds a webhook by id.
type Lookup interface {
	Get(id string) *webhooks.Webhook
}

// Options configure an Engine.
type Options struct {
	Bus      *bus.Bus
	Webhooks Lookup
	// Snapshots lets the engine match events for ordered webhooks itself
	// (nil: ordered webhooks get nothing).
	Snapshots Snapshots
	// Types check ordered webhooks' events as the router checks the
	// others (nil: types and data are not checked).
	Types       *eventtypes.Registry
	Transformer Transformer // nil: webhooks naming a plugin fail
	// PluginSecrets are the fields of a plugin's config its schema marks
	// secret: scrubbed, with the webhook's other secrets, from what the
	// engine stores and logs (nil: none).
	PluginSecrets func(name string) []config.FieldPath
	Health        Health // nil: no 410 or failing-too-long disabling
	Metrics       *metrics.Metrics
	Policy        target.Policy
	RootCAs       *x509.CertPool // nil: the system's
	// ProxyURL sends deliveries through an HTTP CONNECT proxy (nil: direct).
	ProxyURL *url.URL
	// SourceAddr is the local address deliveries leave from (zero: any).
	SourceAddr netip.Addr
	// ConnectTimeout bounds connecting (TCP and TLS); Timeout the whole request.
	ConnectTimeout, Timeout time.Duration
	// HTTP2 lets requests use HTTP/2 where the receiver offers it (ALPN);
	// otherwise they use HTTP/1.1.
	HTTP2 bool
	// Concurrency bounds deliveries in flight; PerWebhook those to one
	// webhook; PerHost (0: no bound) those to one host, across its webhooks.
	Concurrency, PerWebhook, PerHost int
	// ExcerptBytes of each response body are kept in the attempt log.
	ExcerptBytes int
	// Keys sign v1a signatures, by account.
	Keys Keys
	// UserAgent of every request.
	UserAgent string
	// ShutdownGrace is how long Run waits for the deliveries in flight when
	// it is stopped; those still running then are cancelled and handed back
	// to JetStream, uncounted, for the next hub to deliver. Default 10s.
	ShutdownGrace time.Duration
	Log           zerolog.Logger
}

// Stats are the engine's counters since start.
type Stats struct {
	Delivered, Failed, Retried, DeadLettered, Skipped, Deferred atomic.Int64
	// Redelivered counts second copies of jobs that JetStream handed out
	// while this hub still held them or had just settled them (an ack or
	// renewal that reached the server after the ack wait): dropped, never
	// delivered twice.
	Redelivered atomic.Int64
	// Direct counts first attempts handed over by the router (TryFirst).
	Direct atomic.Int64
}

// Engine is the delivery worker of one hub process.
type Engine struct {
	o      Options
	client *http.Client
	log    zerolog.Logger
	sem    chan struct{}
	mu     sync.Mutex
	lanes  map[string]*lane
	Stats  Stats

	mtls   map[string]mtlsClient // clients with a certificate, by webhook
	tokens tokens                // OAuth2 tokens, by credentials

	hostMu sync.Mutex
	hosts  map[string]chan struct{}

	seq *sequencer // ordered webhooks' jobs

	// pool runs the lanes' units on reused goroutines, whose stacks have
	// grown to what a delivery needs (a goroutine per unit grows a fresh
	// stack each time).
	pool *workpool.Pool

	running map[*unit]time.Time // units being processed, since when; guarded by mu
	holding map[uint64]struct{} // stream sequences of the jobs held (queued, gathering, running); guarded by mu
	acked   settled             // jobs acked lately

	fails failLog // which failed attempts are logged

	work    context.Context // the context units run in; set by Run, under mu
	closing bool            // Run is stopping: TryFirst takes nothing more; guarded by mu
	started chan struct{}   // closed once Run has set work
	wg      sync.WaitGroup  // units running
}

// New returns an engine; Run starts it.
func New(o Options) *Engine {
	if o.Concurrency <= 0 {
		o.Concurrency = config.DefaultConcurrency
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = config.DefaultPerWebhookConcurrency
	}
	if o.UserAgent == "" {
		o.UserAgent = "hookhub"
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	e := &Engine{
		o:       o,
		client:  newClient(o),
		log:     o.Log.With().Str("component", "delivery").Logger(),
		sem:     make(chan struct{}, o.Concurrency),
		pool:    workpool.New(0, 10*time.Second),
		lanes:   map[string]*lane{},
		running: map[*unit]time.Time{},
		holding: map[uint64]struct{}{},
		started: make(chan struct{}),
	}
	e.seq = newSequencer(e)
	return e
}

// Run delivers jobs until ctx is done, then waits up to ShutdownGrace for the
// deliveries in flight and settles them.
func (e *Engine) Run(ctx context.Context) error {
	n := e.o.Bus.Names
	cons, err := e.o.Bus.JS.Consumer(ctx, n.DeliveriesStream, n.DelivererConsumer)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return fmt.Errorf("delivery: consumer: %w", err)
	}
	work, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	e.mu.Lock()
	e.work = work
	e.mu.Unlock()
	close(e.started)
	cc, err := cons.Consume(e.dispatch,
		// A job's ack wait runs from the pull, and keepWaiting renews only
		// the jobs dispatched: the pull stays near 500 however high the
		// concurrency, so that a busy hub's unread buffer never outlives it.
		jetstream.PullMaxMessages(min(max(500, e.o.Concurrency), 1024)),
		// A short pull expiry (so heartbeats every 2.5s) finds a lost
		// stream leader or server quickly and pulls again.
		jetstream.PullExpiry(5*time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) {
				e.log.Debug().Err(err).Msg("consume")
			}
		}))
	if err != nil {
		return fmt.Errorf("delivery: consume: %w", err)
	}
	go e.keepWaiting(work)
	sequenced, woken := make(chan struct{}), make(chan struct{})
	go func() { defer close(sequenced); e.runSequencer(ctx) }()
	go func() { defer close(woken); e.runWaker(ctx) }()
	<-ctx.Done()
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	cc.Stop()
	<-cc.Closed()
	<-sequenced
	<-woken
	e.handBack()
	e.seq.stop()
	drained := make(chan struct{})
	go func() { e.wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(e.o.ShutdownGrace):
		e.log.Warn().Dur("grace", e.o.ShutdownGrace).Msg("deliveries still in flight at shutdown are cancelled and handed back")
		abort()
		<-drained
	}
	return nil
}

// keepWaiting tells JetStream, every bus.KeepAliveEvery, that the jobs this
// hub holds (queued, gathering into a batch, or running and taken more than
// half that ago) are in hand, so that none is given to another hub meanwhile; the consumer's
// short ack wait then hands a crashed hub's jobs on within seconds. The
// sequencer's events, with their longer ack wait, are kept alive less often.
func (e *Engine) keepWaiting(ctx context.Context) {
	t := time.NewTicker(bus.KeepAliveEvery)
	defer t.Stop()
	lastSeq := time.Now()
	var held []jetstream.Msg
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			held = held[:0]
			// Half a period: a job is renewed at most 1.5 periods after
			// this hub took it, then every period, however long it
			// queued before it started.
			e.eachHeld(now.Add(-bus.KeepAliveEvery/2), func(m jetstream.Msg) { held = append(held, m) })
			for _, m := range held {
				_ = m.InProgress()
			}
			if now.Sub(lastSeq) >= bus.SequencerAck/3 {
				e.seq.each(func(m jetstream.Msg) { _ = m.InProgress() })
				lastSeq = now
			}
		}
	}
}

// process makes one attempt and settles the unit.
func (e *Engine) process(ctx context.Context, w *webhooks.Webhook, u *unit) result {
	var res result
	switch {
	case w == nil:
		res.err = fmt.Errorf("%w: webhook %q no longer exists", ErrPermanent, u.webhook)
	case u.account() != "" && w.Account != u.account():
		// The job's webhook was deleted and its id given to another
		// account's webhook: never that one's URL and secret for this job.
		res.err = fmt.Errorf("%w: webhook %q no longer exists in account %q", ErrPermanent, u.webhook, u.account())
	case !w.IsActive():
		res.err = fmt.Errorf("%w: webhook %q is inactive", ErrPermanent, u.webhook)
	case e.disabled(w.ID) != "":
		res.err = fmt.Errorf("%w: webhook %q was disabled by the hub: %s", errDisabled, u.webhook, e.disabled(w.ID))
	default:
		res = e.attempt(ctx, w, u)
	}
	if ctx.Err() != nil {
		// Cancelled by shutdown: not the receiver's fault, not an attempt.
		for _, m := range u.msgs {
			_ = m.Nak()
		}
		u.finish(ctx.Err())
		return res
	}
	e.settle(ctx, w, u, res)
	return res
}

func (e *Engine) disabled(webhook string) string {
	if e.o.Health == nil {
		return ""
	}
	if off, why := e.o.Health.Disabled(webhook); off {
		return why
	}
	return ""
}
