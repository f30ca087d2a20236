// Package delivery sends delivery jobs to their webhooks: it consumes the
// deliveries stream, runs the webhook's plugin, signs and POSTs the request,
// and maps the outcome onto JetStream: ack on success, a scheduled retry by
// the webhook's backoff, or the dead-letter stream after the last attempt.
//
// No goroutine sleeps on a retry: a job waiting for its next attempt is a
// scheduled message in the deliveries stream, moved back to the job subjects by
// the NATS server when it is due. Work in flight is bounded per webhook, so
// one slow endpoint never holds up the others.
package delivery

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/target"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/abi"
)

// Transformer runs a webhook's plugin. pluginhost.Host is one.
type Transformer interface {
	Transform(ctx context.Context, plugin string, in *abi.Input) (*abi.Output, error)
}

// Lookup finds a webhook by id.
type Lookup interface {
	Get(id string) *webhooks.Webhook
}

// Options configure an Engine.
type Options struct {
	Bus         *bus.Bus
	Webhooks    Lookup
	Transformer Transformer // nil: webhooks naming a plugin fail
	Policy      target.Policy
	RootCAs     *x509.CertPool // nil: the system's
	// ConnectTimeout bounds connecting (TCP and TLS); Timeout the whole request.
	ConnectTimeout, Timeout time.Duration
	// Concurrency bounds deliveries in flight; PerWebhook those to one webhook.
	Concurrency, PerWebhook int
	// ExcerptBytes of each response body are kept in the attempt log.
	ExcerptBytes int
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
}

// New returns an engine; Run starts it.
func New(o Options) *Engine {
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = 16
	}
	if o.UserAgent == "" {
		o.UserAgent = "hookhub"
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	return &Engine{
		o:      o,
		client: newClient(o),
		log:    o.Log.With().Str("component", "delivery").Logger(),
		sem:    make(chan struct{}, o.Concurrency),
		lanes:  map[string]*lane{},
	}
}

// Run delivers jobs until ctx is done, then waits up to ShutdownGrace for the
// deliveries in flight and settles them.
func (e *Engine) Run(ctx context.Context) error {
	n := e.o.Bus.Names
	cons, err := e.o.Bus.JS.Consumer(ctx, n.DeliveriesStream, n.DelivererConsumer)
	if err != nil {
		return fmt.Errorf("delivery: consumer: %w", err)
	}
	work, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	var wg sync.WaitGroup
	cc, err := cons.Consume(func(m jetstream.Msg) { e.dispatch(work, m, &wg) },
		jetstream.PullMaxMessages(max(500, e.o.Concurrency)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) {
				e.log.Debug().Err(err).Msg("consume")
			}
		}))
	if err != nil {
		return fmt.Errorf("delivery: consume: %w", err)
	}
	go e.keepQueued(work)
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	e.handBack()
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(e.o.ShutdownGrace):
		e.log.Warn().Dur("grace", e.o.ShutdownGrace).Msg("deliveries still in flight at shutdown are cancelled and handed back")
		abort()
		<-drained
	}
	return nil
}

// lane is one webhook's share of this process: at most PerWebhook jobs
// running, and a bounded queue of jobs waiting for one of them.
type lane struct {
	mu      sync.Mutex
	running int
	queue   []jetstream.Msg
}

func (e *Engine) lane(webhook string) *lane {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.lanes[webhook]
	if l == nil {
		l = &lane{}
		e.lanes[webhook] = l
	}
	return l
}

// dispatch runs in the consumer's goroutine: it never waits on a receiver.
// A job runs at once if its webhook has a free slot, waits in the webhook's
// queue if not, and is handed back to JetStream for a moment when even the
// queue is full, so that a slow webhook takes no worker from the others.
func (e *Engine) dispatch(ctx context.Context, m jetstream.Msg, wg *sync.WaitGroup) {
	id := m.Headers().Get(bus.HeaderWebhook)
	l := e.lane(id)
	l.mu.Lock()
	switch {
	case l.running < e.o.PerWebhook:
		l.running++
		l.mu.Unlock()
		e.sem <- struct{}{}
		wg.Add(1)
		go e.runLane(ctx, l, id, m, wg)
	case len(l.queue) < e.queueCap():
		l.queue = append(l.queue, m)
		l.mu.Unlock()
	default:
		l.mu.Unlock()
		e.Stats.Deferred.Add(1)
		_ = m.NakWithDelay(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
	}
}

func (e *Engine) queueCap() int { return 8 * e.o.PerWebhook }

// runLane processes m, then the webhook's queued jobs, until its queue is empty.
func (e *Engine) runLane(ctx context.Context, l *lane, webhook string, m jetstream.Msg, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		e.process(ctx, m, webhook)
		<-e.sem
		l.mu.Lock()
		if len(l.queue) == 0 || ctx.Err() != nil {
			l.running--
			l.mu.Unlock()
			return
		}
		m = l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		e.sem <- struct{}{}
	}
}

// keepQueued tells JetStream, while jobs wait in a lane's queue, that they
// are in hand, so that none is redelivered to another worker meanwhile.
func (e *Engine) keepQueued(ctx context.Context) {
	t := time.NewTicker(bus.DelivererAck / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.eachLane(func(l *lane) {
			for _, m := range l.queue {
				_ = m.InProgress()
			}
		})
	}
}

// handBack returns every queued job to JetStream, at shutdown.
func (e *Engine) handBack() {
	e.eachLane(func(l *lane) {
		for _, m := range l.queue {
			_ = m.Nak()
		}
		l.queue = nil
	})
}

func (e *Engine) eachLane(f func(*lane)) {
	e.mu.Lock()
	lanes := make([]*lane, 0, len(e.lanes))
	for _, l := range e.lanes {
		lanes = append(lanes, l)
	}
	e.mu.Unlock()
	for _, l := range lanes {
		l.mu.Lock()
		f(l)
		l.mu.Unlock()
	}
}

// job is what a delivery job message says.
type job struct {
	id      string // the webhook-id header: <event id>:<webhook id>
	webhook string
	attempt int
	seq     uint64
	stored  time.Time
}

func readJob(m jetstream.Msg, webhook string) job {
	h := m.Headers()
	j := job{id: h.Get(bus.HeaderJob), webhook: webhook, attempt: 1}
	if a, err := strconv.Atoi(h.Get(bus.HeaderAttempt)); err == nil && a > 0 {
		j.attempt = a
	}
	if md, err := m.Metadata(); err == nil {
		j.seq, j.stored = md.Sequence.Stream, md.Timestamp
	}
	if j.id == "" {
		j.id = h.Get(bus.HeaderEventID) + ":" + webhook
	}
	return j
}

// process makes one attempt and settles the job.
func (e *Engine) process(ctx context.Context, m jetstream.Msg, webhook string) {
	j := readJob(m, webhook)
	w := e.o.Webhooks.Get(webhook)
	var res result
	switch {
	case w == nil:
		res.err = fmt.Errorf("%w: webhook %q no longer exists", ErrPermanent, webhook)
	case !w.IsActive():
		res.err = fmt.Errorf("%w: webhook %q is inactive", ErrPermanent, webhook)
	default:
		res = e.attempt(ctx, w, j, m.Data())
	}
	if ctx.Err() != nil {
		// Cancelled by shutdown: not the receiver's fault, not an attempt.
		_ = m.Nak()
		return
	}
	if err := e.settle(ctx, m, w, j, res); err != nil {
		e.log.Warn().Err(err).Str("job", j.id).Msg("settling a job failed; it will be delivered again")
	}
}
