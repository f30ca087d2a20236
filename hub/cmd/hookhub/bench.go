package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/benchmark"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [flags]", stderr)
	var o benchmark.Options
	fs.IntVar(&o.Events, "events", 20000, "events to publish")
	fs.IntVar(&o.Rate, "rate", 0, "events/s, open loop (0: as fast as possible)")
	fs.IntVar(&o.Size, "size", 1024, "bytes of event data, about")
	fs.IntVar(&o.Fanout, "fanout", 1, "webhooks per event")
	fs.IntVar(&o.Batch, "batch", 0, "events per request (0: no batching)")
	fs.Float64Var(&o.FailRatio, "fail", 0, "share of requests the receivers answer 503 (0 to 1)")
	fs.BoolVar(&o.Plain, "plain", false, "plain HTTP receivers (default: TLS)")
	fs.BoolVar(&o.HTTP2, "http2", false, "let deliveries and the HTTP limit use HTTP/2 (default: HTTP/1.1, as the hub)")
	fs.StringVar(&o.Plugin, "plugin", "", "plugin every webhook runs: a first-party name (mapper, form, ...) or a .wasm file, run sandboxed (default: none)")
	fs.IntVar(&o.PerWebhook, "per-webhook", 0, "deliveries in flight per webhook (0: serve's default, delivery.per_webhook_concurrency)")
	fs.StringVar(&o.PluginIsolation, "plugin-isolation", "in_process", "where a .wasm --plugin runs: in_process or process (worker processes)")
	fs.Func("plugin-config", "a JSON file with the webhooks' plugin config (the js plugin's {\"script\": ...}, as `hookhub plugin new --lang js` writes in config.json)", func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return fmt.Errorf("%s: not valid JSON: %w", path, err)
		}
		o.PluginConfig = buf.String()
		return nil
	})
	fs.BoolFunc("direct", "first attempts straight from the router when a webhook's lane is idle, as serve ships (delivery.direct_first_attempt); --direct=false: every attempt through a job", func(v string) error {
		on, err := strconv.ParseBool(v)
		o.JobsOnly = !on
		return err
	})
	fs.IntVar(&o.Concurrency, "concurrency", 0, "deliveries in flight per hub (0: serve's default, delivery.concurrency)")
	fs.IntVar(&o.Webhooks, "webhooks", 0, "distinct webhooks, each with its own loopback receiver (host:port); a multiple of --fanout, events go round-robin to groups of fanout (0: --fanout)")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", 0, "the hub's timeout of each request (0: serve's default, delivery.timeout); hanging receivers hold requests this long")
	fs.DurationVar(&o.ReceiverLatency, "receiver-latency", 0, "every receiver answers after this long")
	fs.Func("hang", "share of webhooks whose receivers never answer until the hub's request timeout, as 1% or 0.01", func(v string) error {
		f, err := benchmark.ParseShare(v)
		o.Hang = f
		return err
	})
	fs.StringVar(&o.Publish, "publish", "nats", "how events come in: nats, or api (POST /v1/events on the hub's API, 32 clients at once)")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.StringVar(&o.Sync, "sync", "interval", "when the hub's embedded JetStream fsyncs: always (before each acknowledgement), interval (NATS's 2 minutes) or a duration such as 1s, as nats_sync")
	fs.StringVar(&o.Procs, "procs", "adaptive", "GOMAXPROCS during the run, as serve's procs: adaptive (one P while the process is nearly idle) or fixed")
	fs.BoolVar(&o.SkipLimits, "skip-limits", false, "do not measure the machine's JetStream and HTTP limits")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the hub's run to this file (for go tool pprof; receivers' and publisher's samples carry the label bench)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.CPUProfile = f
	}
	if o.Procs != config.ProcsAdaptive && o.Procs != config.ProcsFixed {
		return fmt.Errorf("--procs %q: want %s or %s", o.Procs, config.ProcsAdaptive, config.ProcsFixed)
	}
	if o.Plain && o.HTTP2 {
		return errors.New("--http2 needs TLS receivers; drop --plain")
	}
	o.Progress = stderr
	o.PluginWorker = pluginWorker()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := benchmark.Run(ctx, o)
	fmt.Fprint(stderr, "\r\033[K")
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	printResult(stdout, res)
	if res.Lost > 0 {
		return fmt.Errorf("%d deliveries lost", res.Lost)
	}
	return nil
}

func printResult(w io.Writer, r *benchmark.Result) {
	scheme := "https, HTTP/1.1"
	switch {
	case !r.TLS:
		scheme = "http, HTTP/1.1"
	case r.HTTP2:
		scheme = "https, HTTP/2"
	}
	rate := "as fast as possible"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%d events/s", r.Rate)
	}
	fmt.Fprintf(w, "hookhub bench: %d events of %d B, fan-out %d, %s, nats_sync %s, GOMAXPROCS %d, procs %s\n", r.Events, r.PayloadBytes, r.Fanout, scheme, r.Sync, r.GOMAXPROCS, r.Procs)
	fmt.Fprintf(w, "scenario: %d webhooks (%d hanging), receiver latency %.0f ms, published over %s, %s\n", r.Webhooks, r.HangingWebhooks, r.ReceiverLatencyMs, r.PublishPath, rate)
	fmt.Fprintf(w, "hub settings: per_webhook_concurrency %d, concurrency %d, request timeout %.0f ms, direct_first_attempt %v\n", r.PerWebhookLimit, r.Concurrency, r.RequestTimeoutMs, r.Direct)
	switch {
	case r.PluginIsolation != "":
		fmt.Fprintf(w, "plugin: %s, isolation %s\n", r.Plugin, r.PluginIsolation)
	case r.Plugin != "":
		fmt.Fprintf(w, "plugin: %s\n", r.Plugin)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("events published/s", fmt.Sprintf("%.0f", r.PublishedPerS))
	row("events/s (publish to last delivery)", fmt.Sprintf("%.0f", r.EventsPerS))
	row("deliveries/s", fmt.Sprintf("%.0f", r.DeliveriesPerS))
	row("latency p50 / p90 / p99 / max", fmt.Sprintf("%.1f / %.1f / %.1f / %.1f ms", r.P50ms, r.P90ms, r.P99ms, r.MaxMs))
	row("CPU per delivery, hub", fmt.Sprintf("%.0f µs (split by %s)", r.CPUus, r.CPUSplit))
	row("CPU per delivery, receivers / publisher", fmt.Sprintf("%.0f / %.0f µs", r.CPUusReceivers, r.CPUusPublisher))
	if r.Procs == config.ProcsAdaptive {
		row("one P (procs adaptive)", fmt.Sprintf("%.1f s of the run, %d switches", r.OneProcS, r.ProcsSwitches))
	}
	row("CPU per 1,000 deliveries", fmt.Sprintf("%.3f s (hub, publisher, receivers and plugin workers together)", r.CPUPer1000))
	row("peak RSS", fmt.Sprintf("%.0f MiB (the whole process)", r.RSSMiB))
	row("peak heap / goroutines", fmt.Sprintf("%.0f MiB / %d (the whole process)", r.PeakHeapMiB, r.PeakGoroutines))
	row("delivered / lost / duplicates", fmt.Sprintf("%d / %d / %d", r.Delivered, r.Lost, r.Duplicates))
	row("requests", fmt.Sprintf("%d", r.Requests))
	row("hub: delivered / failed / deferred", fmt.Sprintf("%d / %d / %d", r.HubDelivered, r.HubFailed, r.HubDeferred))
	if r.Direct {
		row("hub: first attempts made straight", fmt.Sprintf("%d (the others through jobs)", r.HubDirect))
	}
	if r.TLS {
		row("TLS handshakes (resumed)", fmt.Sprintf("%d (%d)", r.TLSHandshakes, r.TLSResumed))
	}
	if r.HangingWebhooks > 0 {
		row("hanging: requests (timed out in the run)", fmt.Sprintf("%d (%d)", r.HangAttempts, r.HangTimeouts))
	}
	if r.JetStreamLimit > 0 {
		row("limit: JetStream publish+consume+ack", fmt.Sprintf("%.0f msg/s", r.JetStreamLimit))
		row("limit: HTTP POST, no hub", fmt.Sprintf("%.0f req/s", r.HTTPLimit))
		row("hub / lower limit", fmt.Sprintf("%.2f", r.LimitRatio))
	}
	_ = tw.Flush()
}
