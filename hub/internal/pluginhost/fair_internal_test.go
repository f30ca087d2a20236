package pluginhost

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// TestFairShareOfInstances: two webhooks share one plugin; the events of one
// make it spin to its time limit. The other webhook's calls still get an
// instance at once, and all of them are answered while the spinning ones
// still hold theirs; the spinning webhook never holds more than its share;
// in each isolation.
func TestFairShareOfInstances(t *testing.T) {
	wasm := wasmtest.Build(t, "hub/internal/pluginhost/testdata/hostile/sometimes")
	for _, mode := range []string{IsolationInProcess, IsolationProcess} {
		t.Run(mode, func(t *testing.T) {
			h := processHost(t)
			if err := h.Load(context.Background(), Module{Name: "s", Wasm: wasm, Timeout: time.Minute, Instances: 2, Isolation: mode}); err != nil {
				t.Fatal(err)
			}
			held := h.plugins["s"].wasm.(interface{ heldBy(string) int }).heldBy
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var slowDone atomic.Int32
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = h.Transform(ctx, "s", &abi.Input{Webhook: "loop"})
					slowDone.Add(1)
				}()
			}
			for i := 0; held("loop") < 1 && i < 1000; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			if n := held("loop"); n != 1 {
				t.Fatalf("the spinning webhook holds %d of 2 instances, want its share of 1", n)
			}
			for i := range 20 {
				in := &abi.Input{Webhook: "fast", Request: abi.Request{Body: []byte{byte('a' + i)}}}
				out, err := h.Transform(context.Background(), "s", in)
				if err != nil || string(out.Request.Body) != string(in.Request.Body) {
					t.Fatalf("fast call %d: %v", i, err)
				}
				if n := held("loop"); n > 1 {
					t.Fatalf("the spinning webhook holds %d of 2 instances, more than its share of 1", n)
				}
			}
			if n := slowDone.Load(); n != 0 {
				t.Errorf("%d spinning calls ended before the fast webhook's calls were answered: they waited for them", n)
			}
			cancel()
			wg.Wait()
		})
	}
}

func (p *pool) heldBy(key string) int     { return p.instances.heldBy(key) }
func (p *procPool) heldBy(key string) int { return p.pool.heldBy(key) }
