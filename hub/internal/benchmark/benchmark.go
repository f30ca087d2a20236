// Package benchmark measures a complete hub on this machine: its own
// JetStream (embedded, on a temp dir), its own loopback receivers and
// publisher, and beside it the two limits that bound any hub here: JetStream
// publish+consume+ack with no hub logic, and HTTP POSTs with no hub logic.
package benchmark

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/procs"
)

// Options of a run.
type Options struct {
	Events    int     // events to publish
	Rate      int     // events/s, open loop; 0: as fast as possible
	Size      int     // bytes of each event's data, about
	Fanout    int     // webhooks each event goes to
	Batch     int     // events per request; 0: no batching
	FailRatio float64 // share of requests the receivers answer 503
	Plain     bool    // plain HTTP receivers instead of TLS
	HTTP2     bool    // deliveries (and the HTTP limit) may use HTTP/2
	Plugin    string  // plugin each webhook runs: a first-party name, a .wasm file, or "" for none
	// Webhooks is how many distinct webhooks there are (0: Fanout), each
	// with its own receiver (host:port); a multiple of Fanout. Events go
	// round-robin to groups of Fanout of them (one account per group).
	Webhooks int
	// ReceiverLatency is how long every receiver takes to answer.
	ReceiverLatency time.Duration
	// Hang is the share of webhooks (0 to 1, below 1) whose receivers never
	// answer until the hub's request timeout gives up on them.
	Hang float64
	// Publish is the path events take in: "nats" (the default) or "api"
	// (POST /v1/events on the hub's management API).
	Publish string
	// PerWebhook and Concurrency bound deliveries in flight per webhook and
	// per hub (0: serve's shipped defaults).
	PerWebhook, Concurrency int
	// PluginConfig is the webhooks' plugin config, a JSON object (the js
	// plugin's {"script": ...}); empty: none.
	PluginConfig string
	// JobsOnly turns delivery.direct_first_attempt off: every attempt
	// through a job, as before it was on by default.
	JobsOnly bool
	// RequestTimeout bounds each request (0: serve's default,
	// delivery.timeout); a hanging receiver holds its requests that long.
	RequestTimeout time.Duration
	Timeout        time.Duration // the whole run gives up after this
	SkipLimits     bool          // do not measure the machine limits
	Sync           string        // the embedded server's nats_sync ("": interval, NATS's default)
	// Procs is GOMAXPROCS during the hub's run, as serve's procs:
	// "adaptive" ("") or "fixed".
	Procs    string
	Progress io.Writer // a progress line while it runs (nil: none)
	// CPUProfile, if set, receives the CPU profile of the hub's run (the
	// receivers' and publisher's samples labelled bench=receiver|publisher).
	CPUProfile io.Writer
	// PluginWorker starts a plugin worker process (see hub.WithPluginWorker),
	// which a .wasm Plugin isolated by "process" needs.
	PluginWorker []string
	// PluginIsolation is a .wasm Plugin's isolation: "in_process" (""), or
	// "process".
	PluginIsolation string
}

// Result is what a run measured. JSON field names are an interface.
type Result struct {
	Events         int     `json:"events"`
	Fanout         int     `json:"fanout"`
	Expected       int     `json:"expected_deliveries"` // to the healthy webhooks
	Delivered      int     `json:"delivered"`
	Lost           int     `json:"lost"`
	Duplicates     int     `json:"duplicates"`
	Requests       int64   `json:"requests"` // to the healthy webhooks
	PublishedPerS  float64 `json:"published_per_s"`
	EventsPerS     float64 `json:"events_per_s"`     // events over the whole run, publish to the last delivery
	DeliveriesPerS float64 `json:"deliveries_per_s"` // to the healthy webhooks
	P50ms          float64 `json:"p50_ms"`
	P90ms          float64 `json:"p90_ms"`
	P99ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	CPUPer1000     float64 `json:"cpu_s_per_1000_deliveries"` // the whole process and its plugin workers
	// CPUus is the hub's CPU per delivery: this process's CPU less the
	// receivers' and publisher's shares (by pprof labels, see cpuSplit),
	// plus the plugin workers'. CPUusProcess is everything, as CPUPer1000.
	CPUus          float64 `json:"cpu_us_per_delivery"`
	CPUusProcess   float64 `json:"cpu_us_per_delivery_process"`
	CPUusReceivers float64 `json:"cpu_us_per_delivery_receivers"`
	CPUusPublisher float64 `json:"cpu_us_per_delivery_publisher"`
	CPUSplit       string  `json:"cpu_split"` // how CPUus was told from the rest: "pprof-labels", or "none" (then it is the whole process)
	RSSMiB         float64 `json:"rss_mib"`
	PeakHeapMiB    float64 `json:"peak_heap_mib"`   // live and unswept heap objects, sampled every 50 ms
	PeakGoroutines int     `json:"peak_goroutines"` // the whole process (hub, receivers, publisher), sampled every 50 ms
	JetStreamLimit float64 `json:"jetstream_limit_per_s,omitempty"`
	HTTPLimit      float64 `json:"http_limit_per_s,omitempty"`
	LimitRatio     float64 `json:"limit_ratio,omitempty"`
	Seconds        float64 `json:"seconds"`
	TLS            bool    `json:"tls"`
	HTTP2          bool    `json:"http2,omitempty"`
	// TLSHandshakes the receivers made during the run, TLSResumed of them
	// by a session ticket (the rest were full handshakes).
	TLSHandshakes int64   `json:"tls_handshakes"`
	TLSResumed    int64   `json:"tls_resumed"`
	Batch         int     `json:"batch,omitempty"`
	FailRatio     float64 `json:"fail_ratio,omitempty"`
	Plugin        string  `json:"plugin,omitempty"`
	// PluginIsolation is a .wasm plugin's (in_process or process).
	PluginIsolation string `json:"plugin_isolation,omitempty"`
	PayloadBytes    int    `json:"payload_bytes"`
	Sync            string `json:"nats_sync"`
	TimedOut        bool   `json:"timed_out,omitempty"`
	GOMAXPROCS      int    `json:"gomaxprocs"`
	// Procs is how GOMAXPROCS was set during the hub's run: "adaptive" (as
	// serve ships: one P while the process is nearly idle, ProcsSwitches
	// changes, OneProcS seconds on one P) or "fixed" (and why, when
	// adaptive was asked for but could not run).
	Procs         string  `json:"procs"`
	ProcsSwitches int     `json:"procs_switches"`
	OneProcS      float64 `json:"one_proc_s"`
	// The scenario, and the hub settings the run used.
	Webhooks          int     `json:"webhooks"`
	ReceiverLatencyMs float64 `json:"receiver_latency_ms"`
	HangShare         float64 `json:"hang_share"`
	HangingWebhooks   int     `json:"hanging_webhooks"`
	HangAttempts      int64   `json:"hang_attempts"` // requests the hanging receivers took
	HangTimeouts      int64   `json:"hang_timeouts"` // of those, the ones the hub gave up on within the run
	Rate              int     `json:"rate"`          // events/s asked for; 0: as fast as possible
	PublishPath       string  `json:"publish"`
	PerWebhookLimit   int     `json:"per_webhook_concurrency"`
	Concurrency       int     `json:"concurrency"`
	RequestTimeoutMs  float64 `json:"request_timeout_ms"`
	Direct            bool    `json:"direct_first_attempt"`
	// The hub's own counters over the run: attempts it counted a success
	// (above delivered when JetStream handed a job out twice), a failure,
	// and jobs handed back because their webhook's queue was full.
	HubDelivered int64 `json:"hub_delivered"`
	HubFailed    int64 `json:"hub_failed"`
	HubDeferred  int64 `json:"hub_deferred"`
	// HubRedelivered counts jobs JetStream handed out again while the hub
	// still held them or had just settled them: dropped, not delivered twice.
	HubRedelivered int64 `json:"hub_redelivered"`
	// HubDirect counts first attempts made straight from the router
	// (direct_first_attempt), without a job; the rest went through jobs.
	HubDirect int64 `json:"hub_direct"`
}

func (o *Options) defaults() error {
	if o.Events <= 0 {
		o.Events = 20000
	}
	if o.Size <= 0 {
		o.Size = 1024
	}
	if o.Fanout <= 0 {
		o.Fanout = 1
	}
	if o.Webhooks <= 0 {
		o.Webhooks = o.Fanout
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Publish == "" {
		o.Publish = "nats"
	}
	switch {
	case o.Webhooks%o.Fanout != 0:
		return fmt.Errorf("webhooks %d: a multiple of fanout %d (events go to groups of fanout webhooks)", o.Webhooks, o.Fanout)
	case o.Hang < 0 || o.Hang >= 1 || hanging(*o) >= o.Webhooks:
		return fmt.Errorf("hang %g: a share from 0 to below 1 that leaves at least one of the %d webhooks healthy", o.Hang, o.Webhooks)
	case o.Publish != "nats" && o.Publish != "api":
		return fmt.Errorf("publish %q: nats or api", o.Publish)
	case o.ReceiverLatency < 0:
		return fmt.Errorf("receiver latency %s: not negative", o.ReceiverLatency)
	}
	return nil
}

// Run runs one benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	// A single request a plugin reshaped is known by its webhook-id, but a
	// batch's id names no event: its events are counted by the bench_id
	// the body carries, which only these plugins keep.
	if o.Batch > 0 && o.Plugin != "" && o.Plugin != "mapper" && o.Plugin != "passthrough" {
		return nil, fmt.Errorf("--batch with --plugin %s: the receivers could not tell which events a reshaped batch holds; batch with mapper or passthrough", o.Plugin)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "hookhub-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rc, err := newReceivers(dir, o)
	if err != nil {
		return nil, err
	}
	defer rc.close()

	groups := o.Webhooks / o.Fanout
	res := &Result{Events: o.Events, Fanout: o.Fanout, TLS: !o.Plain, HTTP2: o.HTTP2, Batch: o.Batch,
		FailRatio: o.FailRatio, Plugin: o.Plugin, PluginIsolation: isolation(o), PayloadBytes: o.Size, GOMAXPROCS: runtime.GOMAXPROCS(0), Sync: o.Sync,
		Webhooks: o.Webhooks, ReceiverLatencyMs: ms(o.ReceiverLatency), HangShare: o.Hang, HangingWebhooks: hanging(o),
		Rate: o.Rate, PublishPath: o.Publish}
	for i := range o.Events {
		for f := range o.Fanout {
			if (i%groups)*o.Fanout+f < rc.hangFrom {
				res.Expected++
			}
		}
	}
	if res.Sync == "" {
		res.Sync = "interval"
	}
	bodies := eventBodies(o.Events, o.Size, groups)
	h, cfg, err := startHub(rc, dir, o)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	res.PerWebhookLimit, res.Concurrency = cfg.Delivery.PerWebhookConcurrency, cfg.Delivery.Concurrency
	res.RequestTimeoutMs = ms(cfg.Delivery.Timeout.D())
	res.Direct = cfg.Delivery.Direct()

	if !o.SkipLimits {
		progress(o.Progress, "measuring the JetStream limit...")
		if res.JetStreamLimit, err = jetStreamLimit(ctx, filepath.Join(dir, "js-limit"), bodies); err != nil {
			return nil, fmt.Errorf("jetstream limit: %w", err)
		}
		progress(o.Progress, "measuring the HTTP limit...")
		if res.HTTPLimit, err = httpLimit(ctx, rc, bodies, o.Fanout*res.PerWebhookLimit, o.HTTP2); err != nil {
			return nil, fmt.Errorf("http limit: %w", err)
		}
	}

	hctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(hctx) }()
	defer func() { stop(); <-done }()
	procsDone := adaptProcs(hctx, o, res)
	defer rc.release() // before the hub stops: it waits for its requests in flight

	peaks := samplePeaks(ctx)
	var split cpuSplit
	split.start()
	self0, children0 := selfCPU(), childrenCPU()
	requests0, handshakes0, resumed0 := rc.n.Load(), rc.handshakes.Load(), rc.resumed.Load()
	start := time.Now()
	type published struct {
		err error
		end time.Time
	}
	var pubEnd time.Time
	pubDone := make(chan published, 1)
	go pprof.Do(ctx, pprof.Labels("bench", "publisher"), func(ctx context.Context) {
		var err error
		if o.Publish == "api" {
			err = publishAPI(ctx, h.APIURL(), benchToken, bodies, o.Rate, rc.sent)
		} else {
			err = publish(ctx, h.JetStream(), bodies, groups, o.Rate, rc.sent)
		}
		pubDone <- published{err, time.Now()}
	})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	finished := false
	for rc.delivered() < res.Expected {
		select {
		case <-ctx.Done():
			res.TimedOut = true
		case p := <-pubDone:
			finished, pubEnd = true, p.end
			if p.err != nil {
				return nil, fmt.Errorf("publishing: %w", p.err)
			}
			continue
		case <-tick.C:
			progress(o.Progress, fmt.Sprintf("%6.1fs  delivered %d of %d", time.Since(start).Seconds(), rc.delivered(), res.Expected))
			continue
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	elapsed := time.Since(start)
	if !finished {
		p := <-pubDone
		if p.err != nil && !res.TimedOut {
			return nil, p.err
		}
		pubEnd = p.end
	}
	// Let late duplicates (if any) arrive before counting them.
	time.Sleep(200 * time.Millisecond)
	self, children := selfCPU()-self0, childrenCPU()-children0
	procsDone()
	st := h.Stats()
	res.HubDelivered, res.HubFailed, res.HubDeferred, res.HubRedelivered = st.Delivered, st.Failed, st.Deferred, st.Redelivered
	res.HubDirect = st.Direct
	shares, splitOK := split.stop(o.CPUProfile)
	res.PeakGoroutines, res.PeakHeapMiB = peaks()
	res.Seconds = elapsed.Seconds()
	if !pubEnd.IsZero() {
		res.PublishedPerS = float64(o.Events) / pubEnd.Sub(start).Seconds()
	}
	res.EventsPerS = float64(o.Events) / elapsed.Seconds()
	rc.mu.Lock()
	res.Delivered = len(rc.seen)
	for _, n := range rc.seen {
		res.Duplicates += n - 1
	}
	lat := append([]time.Duration(nil), rc.lat...)
	rc.mu.Unlock()
	res.Requests = rc.n.Load() - requests0
	res.TLSHandshakes, res.TLSResumed = rc.handshakes.Load()-handshakes0, rc.resumed.Load()-resumed0
	res.HangAttempts, res.HangTimeouts = rc.hangs.Load(), rc.hangGone.Load()
	res.Lost = res.Expected - res.Delivered
	res.DeliveriesPerS = float64(res.Delivered) / elapsed.Seconds()
	if d := float64(res.Delivered); d > 0 {
		us := func(c time.Duration) float64 { return float64(c.Nanoseconds()) / 1000 / d }
		res.CPUPer1000 = (self + children).Seconds() / d * 1000
		res.CPUusProcess = us(self + children)
		res.CPUus, res.CPUSplit = res.CPUusProcess, "none"
		if splitOK {
			res.CPUSplit = "pprof-labels"
			res.CPUus = us(time.Duration(float64(self)*shares[""])) + us(children)
			res.CPUusReceivers = us(time.Duration(float64(self) * shares["receiver"]))
			res.CPUusPublisher = us(time.Duration(float64(self) * shares["publisher"]))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.P50ms, res.P90ms, res.P99ms = pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99)
	if len(lat) > 0 {
		res.MaxMs = ms(lat[len(lat)-1])
	}
	res.RSSMiB = peakRSSMiB()
	if lim := lower(res.JetStreamLimit, res.HTTPLimit); lim > 0 {
		res.LimitRatio = res.DeliveriesPerS / lim
	}
	return res, nil
}

// benchToken is the API token of the bench's hub (loopback only, for one run).
const benchToken = "bench-api-token-loopback-only"

// accountName is group g's account: "bench" when there is one group.
func accountName(g, groups int) string {
	if groups == 1 {
		return "bench"
	}
	return "bench" + strconv.Itoa(g)
}

// startHub makes the hub of a run: serve's shipped delivery settings except
// where o overrides them. It returns the config it parsed, defaults filled.
func startHub(rc *receivers, dir string, o Options) (*hub.Hub, *config.Config, error) {
	var hooks, accounts []string
	groups := o.Webhooks / o.Fanout
	for g := range groups {
		accounts = append(accounts, fmt.Sprintf(`{"id":%q,"webhook_limit":%d}`, accountName(g, groups), max(40, o.Fanout)))
	}
	for i := range o.Webhooks {
		extra := ""
		if o.Batch > 0 {
			extra += fmt.Sprintf(`,"batch":{"max_events":%d,"max_wait":"200ms"}`, o.Batch)
		}
		pcfg := ""
		if o.PluginConfig != "" {
			pcfg = `,"config":` + o.PluginConfig
		}
		switch {
		case strings.HasSuffix(o.Plugin, ".wasm"):
			extra += `,"plugin":{"name":"bench_custom"` + pcfg + `}`
		case o.Plugin != "":
			extra += fmt.Sprintf(`,"plugin":{"name":%q%s}`, o.Plugin, pcfg)
		}
		hooks = append(hooks, fmt.Sprintf(`{"id":"w%d","account":%q,"url":%q,"events":["contact.*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","retry":{"schedule":["1s","1s","2s","5s"],"jitter":0}%s}`,
			i, accountName(i/o.Fanout, groups), rc.url(i), extra))
	}
	ca := ""
	if rc.caFile != "" {
		ca = fmt.Sprintf(`"ca_file":%q,`, rc.caFile)
	}
	if o.PerWebhook > 0 {
		ca += fmt.Sprintf(`"per_webhook_concurrency":%d,`, o.PerWebhook)
	}
	if o.Concurrency > 0 {
		ca += fmt.Sprintf(`"concurrency":%d,`, o.Concurrency)
	}
	if o.JobsOnly {
		ca += `"direct_first_attempt":false,`
	}
	if o.RequestTimeout > 0 {
		ca += fmt.Sprintf(`"timeout":%q,`, o.RequestTimeout.String())
	}
	plugins := ""
	if strings.HasSuffix(o.Plugin, ".wasm") { // a customer's module, sandboxed
		path, err := filepath.Abs(o.Plugin)
		if err != nil {
			return nil, nil, err
		}
		plugins = fmt.Sprintf(`"plugins":[{"name":"bench_custom","path":%q,"isolation":%q}],`, path, isolation(o))
	}
	api := `"api_addr":"off"`
	if o.Publish == "api" {
		api = fmt.Sprintf(`"api_addr":"127.0.0.1:0","api_token":%q`, benchToken)
	}
	doc := fmt.Sprintf(`{%s"data_dir":%q,"nats_sync":%q,"nats_listen":"none",%s,"accounts":[%s],
		"delivery":{%s"allow_insecure_targets":true,"http2":%t},"webhooks":[%s]}`,
		plugins, filepath.Join(dir, "hub"), o.Sync, api, strings.Join(accounts, ","), ca, o.HTTP2, strings.Join(hooks, ","))
	cfg, err := config.Parse("bench", []byte(doc), nil)
	if err != nil {
		return nil, nil, err
	}
	h, err := hub.New(cfg, hub.WithLogger(zerolog.Nop()), hub.WithPluginWorker(o.PluginWorker...))
	return h, cfg, err
}

// eventBodies makes n CloudEvents of about size bytes of data each, event i
// for group i%groups's account, the publish time to be filled in.
func eventBodies(n, size, groups int) [][]byte {
	pad := strings.Repeat("x", max(0, size-120))
	out := make([][]byte, n)
	for i := range n {
		out[i] = []byte(fmt.Sprintf(`{"specversion":"1.0","id":"b%d","source":"bench","type":"contact.updated","account":%q,"initiator":"system",`+
			`"data":{"bench_id":"b%d","sent_ns":%%d,"email":"c%d@example.com","pad":"%s"}}`, i, accountName(i%groups, groups), i, i, pad))
	}
	return out
}

// samplePeaks samples the process's goroutines and heap every 50 ms until
// ctx ends or the returned func is called, which gives the peaks.
func samplePeaks(ctx context.Context) func() (goroutines int, heapMiB float64) {
	ctx, cancel := context.WithCancel(ctx)
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}, {Name: "/memory/classes/heap/objects:bytes"}}
	var g, heap uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			g, heap = max(g, s[0].Value.Uint64()), max(heap, s[1].Value.Uint64())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() (int, float64) {
		cancel()
		<-done
		return int(g), float64(heap) / (1 << 20)
	}
}

func pct(s []time.Duration, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return ms(s[min(len(s)-1, int(float64(len(s))*p))])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func lower(a, b float64) float64 {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// selfCPU is the CPU time of this process.
func selfCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// childrenCPU is the CPU time of this process's child processes (the plugin
// workers): those that ended and, on Linux, those still running.
func childrenCPU() time.Duration { return rusage(syscall.RUSAGE_CHILDREN) + liveChildrenCPU() }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// liveChildrenCPU reads the CPU time of this process's running children
// from /proc (nothing where there is no /proc).
func liveChildrenCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := strconv.Itoa(os.Getpid())
	var ticks int64
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime: fields 4, 14 and 15; comm
		// may hold spaces, so count from its closing parenthesis.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 13 || fields[1] != self {
			continue
		}
		u, _ := strconv.ParseInt(fields[11], 10, 64)
		s, _ := strconv.ParseInt(fields[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

func progress(w io.Writer, s string) {
	if w != nil {
		fmt.Fprintf(w, "\r%-60s", s)
	}
}

// tlsClient trusts the receivers' certificate and speaks the hub's HTTP.
func tlsClient(rc *receivers, conns int, http2 bool) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, ForceAttemptHTTP2: http2}
	if srv := rc.srvs[0]; srv.TLS != nil {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr}
}

// adaptProcs runs serve's GOMAXPROCS controller (as o.Procs asks) until
// the func it returns is called, which writes what it did in res. The
// controller sees the whole bench process: the publisher and receivers
// count in its load, so it goes down to one P a little later than serve
// would.
func adaptProcs(ctx context.Context, o Options, res *Result) (done func()) {
	res.Procs = config.ProcsFixed
	if o.Procs == config.ProcsFixed {
		return func() {}
	}
	stop, why := procs.Start(ctx, procs.Options{}, zerolog.Nop())
	if why != "" {
		res.Procs += " (" + why + ")"
		return func() {}
	}
	res.Procs = config.ProcsAdaptive
	return func() {
		s := stop()
		res.ProcsSwitches, res.OneProcS = s.Switches, s.AtOne.Seconds()
	}
}

// isolation is a .wasm plugin's isolation ("" without one).
func isolation(o Options) string {
	switch {
	case !strings.HasSuffix(o.Plugin, ".wasm"):
		return ""
	case o.PluginIsolation == "":
		return "in_process"
	}
	return o.PluginIsolation
}
