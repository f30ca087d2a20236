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
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	publisher "github.com/hookhub/hookhub/sdk/publish"
)

// Options of a run.
type Options struct {
	Events     int           // events to publish
	Rate       int           // events/s, open loop; 0: as fast as possible
	Size       int           // bytes of each event's data, about
	Fanout     int           // webhooks each event goes to
	Batch      int           // events per request; 0: no batching
	FailRatio  float64       // share of requests the receivers answer 503
	Plain      bool          // plain HTTP receivers instead of TLS
	HTTP2      bool          // deliveries (and the HTTP limit) may use HTTP/2
	Plugin     string        // plugin each webhook runs: a first-party name, a .wasm file, or "" for none
	PerWebhook int           // deliveries in flight per webhook (0: the hub's default)
	Timeout    time.Duration // the whole run gives up after this
	SkipLimits bool          // do not measure the machine limits
	Sync       string        // the embedded server's nats_sync ("": interval, NATS's default)
	Progress   io.Writer     // a progress line while it runs (nil: none)
	// PluginWorker starts a plugin worker process (see hub.WithPluginWorker);
	// nil runs WebAssembly plugins in the hub's process.
	PluginWorker []string
}

// Result is what a run measured. JSON field names are an interface.
type Result struct {
	Events          int     `json:"events"`
	Fanout          int     `json:"fanout"`
	Expected        int     `json:"expected_deliveries"`
	Delivered       int     `json:"delivered"`
	Lost            int     `json:"lost"`
	Duplicates      int     `json:"duplicates"`
	Requests        int64   `json:"requests"`
	PublishedPerS   float64 `json:"published_per_s"`
	DeliveriesPerS  float64 `json:"deliveries_per_s"`
	P50ms           float64 `json:"p50_ms"`
	P90ms           float64 `json:"p90_ms"`
	P99ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	CPUPer1000      float64 `json:"cpu_s_per_1000_deliveries"`
	RSSMiB          float64 `json:"rss_mib"`
	JetStreamLimit  float64 `json:"jetstream_limit_per_s,omitempty"`
	HTTPLimit       float64 `json:"http_limit_per_s,omitempty"`
	LimitRatio      float64 `json:"limit_ratio,omitempty"`
	Seconds         float64 `json:"seconds"`
	TLS             bool    `json:"tls"`
	HTTP2           bool    `json:"http2,omitempty"`
	Batch           int     `json:"batch,omitempty"`
	FailRatio       float64 `json:"fail_ratio,omitempty"`
	Plugin          string  `json:"plugin,omitempty"`
	PayloadBytes    int     `json:"payload_bytes"`
	Sync            string  `json:"nats_sync"`
	TimedOut        bool    `json:"timed_out,omitempty"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
	PerWebhookLimit int     `json:"per_webhook_concurrency"`
}

func (o *Options) defaults() {
	if o.Events <= 0 {
		o.Events = 20000
	}
	if o.Size <= 0 {
		o.Size = 1024
	}
	if o.Fanout <= 0 {
		o.Fanout = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = 64
	}
}

// receivers are the loopback endpoints of a run.
type receivers struct {
	srv      *httptest.Server
	caFile   string
	failEach int // answer 503 to every failEach-th request (0: never)
	n        atomic.Int64
	mu       sync.Mutex
	seen     map[string]int // event id + webhook -> deliveries
	lat      []time.Duration
	// sent holds when each event was published (Unix ns, by index), for
	// requests whose body a plugin reshaped: they are known by their
	// webhook-id header, <event id>:<webhook id>, and the event id is b<index>.
	sent []atomic.Int64
}

func newReceivers(dir string, plain bool, failRatio float64, events int) (*receivers, error) {
	r := &receivers{seen: map[string]int{}, sent: make([]atomic.Int64, events)}
	if failRatio > 0 {
		r.failEach = int(1 / failRatio)
	}
	h := http.HandlerFunc(r.serve)
	if plain {
		r.srv = httptest.NewServer(h)
		return r, nil
	}
	r.srv = httptest.NewUnstartedServer(h)
	r.srv.EnableHTTP2 = true
	r.srv.StartTLS()
	r.caFile = filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
	return r, os.WriteFile(r.caFile, pemBytes, 0o600)
}

// serve records each event of a request with its publish-to-receive latency.
// The HTTP limit's requests (path /limit) are read the same way, so both
// measures pay the same receiver, but not counted.
func (r *receivers) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	type seen struct {
		id   string
		sent int64
	}
	var got [1]seen
	events := got[:0]
	read := func(ev gjson.Result) {
		if id := ev.Get("data.bench_id"); id.Type == gjson.String && id.Str != "" {
			events = append(events, seen{id.Str, ev.Get("data.sent_ns").Int()})
		}
	}
	if doc := gjson.ParseBytes(body); doc.IsArray() {
		doc.ForEach(func(_, ev gjson.Result) bool { read(ev); return true })
	} else {
		read(doc)
	}
	if len(events) == 0 { // a body a plugin made: the event by its webhook-id
		if id, _, ok := strings.Cut(req.Header.Get("webhook-id"), ":"); ok {
			if i, err := strconv.Atoi(strings.TrimPrefix(id, "b")); err == nil && i >= 0 && i < len(r.sent) {
				events = append(events, seen{id, r.sent[i].Load()})
			}
		}
	}
	if req.URL.Path == "/limit" {
		w.WriteHeader(http.StatusOK)
		return
	}
	n := r.n.Add(1)
	if r.failEach > 0 && n%int64(r.failEach) == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	now := time.Now()
	hook := strings.TrimPrefix(req.URL.Path, "/")
	r.mu.Lock()
	for _, ev := range events {
		r.seen[ev.id+"/"+hook]++
		r.lat = append(r.lat, now.Sub(time.Unix(0, ev.sent)))
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receivers) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// Run runs one benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
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
	rc, err := newReceivers(dir, o.Plain, o.FailRatio, o.Events)
	if err != nil {
		return nil, err
	}
	defer rc.srv.Close()

	res := &Result{Events: o.Events, Fanout: o.Fanout, Expected: o.Events * o.Fanout, TLS: !o.Plain, HTTP2: o.HTTP2, Batch: o.Batch,
		FailRatio: o.FailRatio, Plugin: o.Plugin, PayloadBytes: o.Size, GOMAXPROCS: runtime.GOMAXPROCS(0), PerWebhookLimit: o.PerWebhook, Sync: o.Sync}
	if res.Sync == "" {
		res.Sync = "interval"
	}
	bodies := eventBodies(o.Events, o.Size)

	if !o.SkipLimits {
		progress(o.Progress, "measuring the JetStream limit...")
		if res.JetStreamLimit, err = jetStreamLimit(ctx, filepath.Join(dir, "js-limit"), bodies); err != nil {
			return nil, fmt.Errorf("jetstream limit: %w", err)
		}
		progress(o.Progress, "measuring the HTTP limit...")
		if res.HTTPLimit, err = httpLimit(ctx, rc, bodies, o.Fanout*o.PerWebhook, o.HTTP2); err != nil {
			return nil, fmt.Errorf("http limit: %w", err)
		}
	}

	h, err := startHub(rc, dir, o)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	hctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(hctx) }()
	defer func() { stop(); <-done }()

	cpu0 := cpuTime()
	requests0 := rc.n.Load()
	start := time.Now()
	js := h.JetStream()
	type published struct {
		err error
		end time.Time
	}
	var pubEnd time.Time
	pubDone := make(chan published, 1)
	go func() {
		err := publish(ctx, js, bodies, o.Rate, rc.sent)
		pubDone <- published{err, time.Now()}
	}()
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
	cpu := cpuTime() - cpu0
	res.Seconds = elapsed.Seconds()
	if !pubEnd.IsZero() {
		res.PublishedPerS = float64(o.Events) / pubEnd.Sub(start).Seconds()
	}
	rc.mu.Lock()
	res.Delivered = len(rc.seen)
	for _, n := range rc.seen {
		res.Duplicates += n - 1
	}
	lat := append([]time.Duration(nil), rc.lat...)
	rc.mu.Unlock()
	res.Requests = rc.n.Load() - requests0
	res.Lost = res.Expected - res.Delivered
	res.DeliveriesPerS = float64(res.Delivered) / elapsed.Seconds()
	if res.Delivered > 0 {
		res.CPUPer1000 = cpu.Seconds() / float64(res.Delivered) * 1000
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

func startHub(rc *receivers, dir string, o Options) (*hub.Hub, error) {
	var hooks []string
	for i := range o.Fanout {
		extra := ""
		if o.Batch > 0 {
			extra += fmt.Sprintf(`,"batch":{"max_events":%d,"max_wait":"200ms"}`, o.Batch)
		}
		switch {
		case strings.HasSuffix(o.Plugin, ".wasm"):
			extra += `,"plugin":{"name":"bench_custom"}`
		case o.Plugin != "":
			extra += fmt.Sprintf(`,"plugin":{"name":%q}`, o.Plugin)
		}
		hooks = append(hooks, fmt.Sprintf(`{"id":"w%d","account":"bench","url":"%s/w%d","events":["contact.*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","retry":{"schedule":["1s","1s","2s","5s"],"jitter":0}%s}`,
			i, rc.srv.URL, i, extra))
	}
	ca := ""
	if rc.caFile != "" {
		ca = fmt.Sprintf(`"ca_file":%q,`, rc.caFile)
	}
	plugins := ""
	if strings.HasSuffix(o.Plugin, ".wasm") { // a customer's module, sandboxed
		path, err := filepath.Abs(o.Plugin)
		if err != nil {
			return nil, err
		}
		plugins = fmt.Sprintf(`"plugins":[{"name":"bench_custom","path":%q}],`, path)
	}
	doc := fmt.Sprintf(`{%s"data_dir":%q,"nats_sync":%q,"nats_listen":"none","api_addr":"off","accounts":[{"id":"bench","webhook_limit":%d}],
		"delivery":{%s"allow_insecure_targets":true,"http2":%t,"per_webhook_concurrency":%d,"concurrency":%d},"webhooks":[%s]}`,
		plugins, filepath.Join(dir, "hub"), o.Sync, max(40, o.Fanout), ca, o.HTTP2, o.PerWebhook, max(256, o.PerWebhook), strings.Join(hooks, ","))
	cfg, err := config.Parse("bench", []byte(doc), nil)
	if err != nil {
		return nil, err
	}
	return hub.New(cfg, hub.WithLogger(zerolog.Nop()), hub.WithPluginWorker(o.PluginWorker...))
}

// eventBodies makes n CloudEvents of about size bytes of data each, the
// publish time to be filled in.
func eventBodies(n, size int) [][]byte {
	pad := strings.Repeat("x", max(0, size-120))
	out := make([][]byte, n)
	for i := range n {
		out[i] = []byte(fmt.Sprintf(`{"specversion":"1.0","id":"b%d","source":"bench","type":"contact.updated","account":"bench","initiator":"system",`+
			`"data":{"bench_id":"b%d","sent_ns":%%d,"email":"c%d@example.com","pad":"%s"}}`, i, i, i, pad))
	}
	return out
}

// publish sends the events, open loop at rate per second when rate > 0, and
// notes when it sent each in sent.
func publish(ctx context.Context, js jetstream.JetStream, bodies [][]byte, rate int, sent []atomic.Int64) error {
	var interval time.Duration
	if rate > 0 {
		interval = time.Second / time.Duration(rate)
	}
	start := time.Now()
	for i, tmpl := range bodies {
		if interval > 0 {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		m := nats.NewMsg("hookhub.events.bench.contact.updated")
		m.Header.Set(jetstream.MsgIDHeader, publisher.MsgID("bench", "b"+strconv.Itoa(i)))
		now := time.Now().UnixNano()
		sent[i].Store(now)
		m.Data = []byte(fmt.Sprintf(string(tmpl), now))
		// A busy hub can keep the server from acking at once: when too many
		// publishes wait, wait for them, then go on (bounded by ctx).
		for {
			_, err := js.PublishMsgAsync(m)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return err
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
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

// cpuTime is the CPU time of this process and of its child processes (the
// plugin workers): those that ended and, on Linux, those still running.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total + liveChildrenCPU()
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
	if rc.srv.TLS != nil {
		pool := x509.NewCertPool()
		pool.AddCert(rc.srv.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr}
}
