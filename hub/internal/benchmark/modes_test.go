package benchmark

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/config"
)

// TestSlowAndHangingReceivers: 20 webhooks, each its own receiver answering
// after 20 ms, one of them never answering, 1,000 events open loop at 500/s:
// every event to the healthy 19 arrives once, well before the hub's request
// timeout would free the hanging one's requests, on serve's shipped
// concurrency, and the result carries the scenario and the new figures.
func TestSlowAndHangingReceivers(t *testing.T) {
	o := Options{Events: 1000, Rate: 500, Webhooks: 20, ReceiverLatency: 20 * time.Millisecond, Hang: 0.05, SkipLimits: true, Timeout: 60 * time.Second,
		RequestTimeout: 40 * time.Second} // the run must end long before the hanging requests would
	// Under the race detector on this shared 2-core machine, 300 TLS
	// handshakes at once starve the hub past its jobs' 4 s ack wait (the
	// hub's counters then show JetStream handing jobs out twice): plain
	// HTTP there, TLS without it.
	o.Plain = raceDetector
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Expected != 950 || res.Delivered != 950 || res.Lost != 0 || res.Duplicates != 0 || res.TimedOut {
		t.Errorf("expected %d (want 950), delivered %d, lost %d, duplicates %d, timed out %v; the hub counted %d delivered, %d failed, %d deferred",
			res.Expected, res.Delivered, res.Lost, res.Duplicates, res.TimedOut, res.HubDelivered, res.HubFailed, res.HubDeferred)
	}
	if res.HangingWebhooks != 1 || res.HangAttempts < 1 {
		t.Errorf("hanging webhooks %d (want 1), their requests %d (want some)", res.HangingWebhooks, res.HangAttempts)
	}
	if res.Seconds*1000 >= res.RequestTimeoutMs/2 || res.MaxMs >= res.RequestTimeoutMs/2 {
		t.Errorf("the run took %.1f s, its slowest delivery %.0f ms: the healthy webhooks waited on the hanging one (its requests time out after %.0f ms)", res.Seconds, res.MaxMs, res.RequestTimeoutMs)
	}
	if res.P50ms < 20 {
		t.Errorf("p50 %.1f ms: the receivers answer after 20 ms", res.P50ms)
	}
	want := Result{Webhooks: 20, ReceiverLatencyMs: 20, HangShare: 0.05, PublishPath: "nats", Rate: 500,
		PerWebhookLimit: config.DefaultPerWebhookConcurrency, Concurrency: config.DefaultConcurrency, RequestTimeoutMs: 40000}
	got := Result{Webhooks: res.Webhooks, ReceiverLatencyMs: res.ReceiverLatencyMs, HangShare: res.HangShare, PublishPath: res.PublishPath, Rate: res.Rate,
		PerWebhookLimit: res.PerWebhookLimit, Concurrency: res.Concurrency, RequestTimeoutMs: res.RequestTimeoutMs}
	if got != want {
		t.Errorf("scenario and settings:\n got %+v\nwant %+v", got, want)
	}
	checkFigures(t, res)
	// Each of the 20 receivers is its own host:port: the hub keeps
	// connections to each and reuses them (far fewer handshakes than
	// requests), and a new connection resumes a TLS session.
	if !o.Plain && res.TLSHandshakes < 19 || !o.Plain && (res.TLSHandshakes*2 >= res.Requests || res.TLSResumed < 1) {
		t.Errorf("%d TLS handshakes (%d resumed) for %d requests to 20 receivers", res.TLSHandshakes, res.TLSResumed, res.Requests)
	}
}

// TestPublishThroughTheAPI: events POSTed to /v1/events at a fixed rate all
// arrive, and the result says they came that way.
func TestPublishThroughTheAPI(t *testing.T) {
	o := Options{Events: 300, Fanout: 2, Rate: 300, Publish: "api", SkipLimits: true, Timeout: 60 * time.Second}
	o.Plain = raceDetector // as in TestSlowAndHangingReceivers
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 600 || res.Lost != 0 || res.Duplicates != 0 {
		t.Errorf("delivered %d of 600, lost %d, duplicates %d; the hub counted %d delivered, %d failed", res.Delivered, res.Lost, res.Duplicates, res.HubDelivered, res.HubFailed)
	}
	if res.PublishPath != "api" || res.Rate != 300 || res.Webhooks != 2 {
		t.Errorf("publish %q rate %d webhooks %d, want api 300 2", res.PublishPath, res.Rate, res.Webhooks)
	}
	// Open loop at 300/s: 300 events take about a second to send.
	if res.PublishedPerS > 400 {
		t.Errorf("published %.0f events/s at --rate 300", res.PublishedPerS)
	}
	checkFigures(t, res)
}

// checkFigures: the figures every run reports are there and hang together.
func checkFigures(t *testing.T, res *Result) {
	t.Helper()
	if res.EventsPerS <= 0 || res.DeliveriesPerS <= 0 || res.PeakGoroutines <= 0 || res.PeakHeapMiB <= 0 {
		t.Errorf("missing figures: events/s %.0f, deliveries/s %.0f, peak goroutines %d, peak heap %.1f MiB", res.EventsPerS, res.DeliveriesPerS, res.PeakGoroutines, res.PeakHeapMiB)
	}
	// The publisher's few tens of ms of CPU in a small run may get no
	// sample at 100 Hz: only the receivers' share must show.
	if res.CPUSplit != "pprof-labels" || res.CPUus <= 0 || res.CPUusReceivers <= 0 || res.CPUusPublisher < 0 ||
		res.CPUus+res.CPUusReceivers+res.CPUusPublisher > res.CPUusProcess*1.001 {
		t.Errorf("CPU per delivery: hub %.0f, receivers %.0f, publisher %.0f µs of %.0f in all, split by %q", res.CPUus, res.CPUusReceivers, res.CPUusPublisher, res.CPUusProcess, res.CPUSplit)
	}
}

// TestOptionsRefused: a scenario that cannot run says which option and why.
func TestOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Webhooks: 5, Fanout: 2}, "webhooks 5: a multiple of fanout 2"},
		{Options{Webhooks: 4, Hang: 1}, "hang 1:"},
		{Options{Webhooks: 1, Hang: 0.01}, "leaves at least one of the 1 webhooks healthy"},
		{Options{Publish: "http"}, `publish "http": nats or api`},
		{Options{ReceiverLatency: -time.Second}, "receiver latency -1s"},
	} {
		_, err := Run(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error with %q", c.o, err, c.want)
		}
	}
}

func TestParseShare(t *testing.T) {
	for in, want := range map[string]float64{"1%": 0.01, "0.01": 0.01, "50%": 0.5, " 0 ": 0} {
		if got, err := ParseShare(in); err != nil || got != want {
			t.Errorf("ParseShare(%q) = %g, %v; want %g", in, got, err, want)
		}
	}
	if _, err := ParseShare("lots"); err == nil || !strings.Contains(err.Error(), `"lots"`) {
		t.Errorf("ParseShare(lots): %v", err)
	}
}
