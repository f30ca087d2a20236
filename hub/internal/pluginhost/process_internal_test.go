package pluginhost

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// processHost returns a host whose workers are this test binary (its
// TestMain serves as a worker when HOOKHUB_TEST_PLUGIN_WORKER=1).
func processHost(t *testing.T) *Host {
	t.Helper()
	h, err := New(Options{CacheDir: t.TempDir(), Log: zerolog.Nop(),
		WorkerCommand: []string{os.Args[0]}, WorkerEnv: []string{"HOOKHUB_TEST_PLUGIN_WORKER=1"}, Isolation: IsolationProcess})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

func (p *procPool) workers() []*worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ws []*worker
	for w := range p.live {
		ws = append(ws, w)
	}
	return ws
}

// TestWorkerKilledExternally: a worker killed by someone else fails only the
// call in flight, with a reason, and the next call gets a fresh worker.
func TestWorkerKilledExternally(t *testing.T) {
	h := processHost(t)
	ctx := context.Background()
	wasm := wasmtest.Build(t, "hub/internal/pluginhost/testdata/hostile/sometimes")
	if err := h.Load(ctx, Module{Name: "sometimes", Wasm: wasm, Timeout: 20 * time.Second, Instances: 1}); err != nil {
		t.Fatal(err)
	}
	pp := h.plugins["sometimes"].wasm.(*procPool)
	ws := pp.workers()
	if len(ws) != 1 {
		t.Fatalf("%d workers after Load, want 1", len(ws))
	}
	victim := ws[0]

	errc := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := h.Transform(ctx, "sometimes", &abi.Input{Webhook: "loop"})
		errc <- err
	}()
	for pp.pool.idleCount() > 0 { // until the call has the worker
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // and the guest runs
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "plugin sometimes: its worker process failed") || !strings.Contains(err.Error(), "killed") {
			t.Errorf("the call in flight: got %v, want the worker's failure", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("the call failed after %v: it waited for its time limit", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight did not fail when its worker was killed")
	}

	in := &abi.Input{Request: abi.Request{Body: []byte("after")}}
	out, err := h.Transform(ctx, "sometimes", in)
	if err != nil || string(out.Request.Body) != "after" {
		t.Fatalf("the next call: %v", err)
	}
	if ws := pp.workers(); len(ws) != 1 || ws[0] == victim {
		t.Errorf("want one fresh worker, have %d", len(ws))
	}
}

// TestWorkerPool: concurrent calls share at most Instances workers, a guest
// error keeps its worker, and Close (and replacing a module) ends them all.
func TestWorkerPool(t *testing.T) {
	h := processHost(t)
	ctx := context.Background()
	wasm := wasmtest.Build(t, "plugins/passthrough/wasm")
	m := Module{Name: "pt", Wasm: wasm, Timeout: 5 * time.Second, Instances: 3}
	if err := h.Load(ctx, m); err != nil {
		t.Fatal(err)
	}
	pp := h.plugins["pt"].wasm.(*procPool)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := &abi.Input{Webhook: "wh", Events: [][]byte{[]byte(`{"id":"e"}`)}, Request: abi.Request{Body: []byte{byte('a' + i)}}}
			for range 5 {
				out, err := h.Transform(ctx, "pt", in)
				if err != nil || string(out.Request.Body) != string(in.Request.Body) {
					t.Errorf("concurrent call: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	first := pp.workers()
	if len(first) == 0 || len(first) > 3 {
		t.Fatalf("%d workers, want 1 to 3", len(first))
	}
	// A sneaky header is the host's refusal, not a spoiled worker.
	sneaky := &abi.Input{Request: abi.Request{Headers: map[string]string{"webhook-id": "x"}}}
	if _, err := h.Transform(ctx, "pt", sneaky); err == nil || !strings.Contains(err.Error(), "may not set") {
		t.Errorf("sneaky header: %v", err)
	}
	// Replacing the module ends the old workers.
	if err := h.Load(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, w := range first {
		select {
		case <-w.exited:
		case <-time.After(5 * time.Second):
			t.Fatal("a worker of the replaced module lives on")
		}
	}
	second := h.plugins["pt"].wasm.(*procPool).workers()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range second {
		select {
		case <-w.exited:
		case <-time.After(5 * time.Second):
			t.Fatal("a worker lives on after Close")
		}
	}
}

// TestWorkerCancelled: a call whose context ends fails at once (its worker
// is killed), and the next call gets a fresh worker.
func TestWorkerCancelled(t *testing.T) {
	h := processHost(t)
	wasm := wasmtest.Build(t, "hub/internal/pluginhost/testdata/hostile/sometimes")
	if err := h.Load(context.Background(), Module{Name: "sometimes", Wasm: wasm, Timeout: 20 * time.Second, Instances: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Transform(ctx, "sometimes", &abi.Input{Webhook: "loop"})
	if err == nil || err.Error() != "plugin sometimes: exceeded its time limit" || time.Since(start) > 2*time.Second {
		t.Errorf("a call past its context's deadline: %v after %v", err, time.Since(start))
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if _, err := h.Transform(ctx, "sometimes", &abi.Input{Webhook: "loop"}); err == nil || err.Error() != "plugin sometimes: cancelled" {
		t.Errorf("a cancelled call: %v", err)
	}
	if _, err := h.Transform(context.Background(), "sometimes", &abi.Input{}); err != nil {
		t.Errorf("the next call: %v", err)
	}
}
