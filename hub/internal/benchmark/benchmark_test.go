package benchmark

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestRunCountsEverything: a small run through a complete hub delivers every
// event, even with a share of failing requests, and reports what the README's
// results table and --json promise.
func TestRunCountsEverything(t *testing.T) {
	// A customer's module that reshapes the body (no bench_id left in it):
	// its deliveries are counted by their webhook-id.
	custom := filepath.Join(t.TempDir(), "crm.wasm")
	if err := os.WriteFile(custom, wasmtest.Build(t, "examples/plugin"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{Events: 300, Fanout: 2},
		{Events: 200, Plain: true, FailRatio: 0.1, SkipLimits: true},
		{Events: 250, Batch: 50, SkipLimits: true},
		{Events: 200, Plugin: custom, SkipLimits: true},
	} {
		if o.Plugin != "" && raceDetector {
			continue // see raceDetector
		}
		o.Timeout = 60 * time.Second
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if res.Lost != 0 || res.Delivered != o.Events*max(1, o.Fanout) || res.TimedOut {
			t.Errorf("%+v: delivered %d, lost %d, timed out %v", o, res.Delivered, res.Lost, res.TimedOut)
		}
		if o.FailRatio == 0 && res.Duplicates != 0 {
			t.Errorf("%+v: %d duplicates without any failure", o, res.Duplicates)
		}
		if o.FailRatio > 0 && res.Requests <= int64(res.Delivered) {
			t.Errorf("%+v: %d requests for %d deliveries: the failures were not retried", o, res.Requests, res.Delivered)
		}
		if o.Batch > 0 && res.Requests > int64(o.Events/o.Batch*2) {
			t.Errorf("%+v: %d requests for %d events in batches of %d", o, res.Requests, o.Events, o.Batch)
		}
		if res.DeliveriesPerS <= 0 || res.P99ms <= 0 || res.RSSMiB <= 0 || res.CPUPer1000 <= 0 {
			t.Errorf("%+v: missing figures: %+v", o, res)
		}
		if !o.SkipLimits && (res.JetStreamLimit <= 0 || res.HTTPLimit <= 0 || res.LimitRatio <= 0) {
			t.Errorf("%+v: limits not measured: %+v", o, res)
		}
	}
}
