package pluginhost_test

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// TestWATPlugin runs the plugin written in WebAssembly text (no Go, no SDK):
// the ABI is language-neutral.
func TestWATPlugin(t *testing.T) {
	wasm := wasmtest.BuildWAT(t, "examples/wat-plugin/passthrough.wat")
	h := newHost(t)
	ctx := context.Background()
	if err := h.Load(ctx, pluginhost.Module{Name: "wat", Wasm: wasm}); err != nil {
		t.Fatal(err)
	}
	in := input(800)
	out, err := h.Transform(ctx, "wat", in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Request, in.Request) {
		t.Errorf("passthrough changed the request:\n got %+v\nwant %+v", out.Request, in.Request)
	}
	batch := input(10)
	batch.Events = append(batch.Events, batch.Events[0], batch.Events[0])
	if out, err := h.Transform(ctx, "wat", batch); err != nil || string(out.Request.Body) != string(batch.Request.Body) {
		t.Errorf("batch: %v", err)
	}
	sneaky := input(10)
	sneaky.Request.Headers = map[string]string{"Webhook-Timestamp": "1"}
	if _, err := h.Transform(ctx, "wat", sneaky); err == nil || !strings.Contains(err.Error(), "may not set") {
		t.Errorf("signature header passed through: %v", err)
	}
	for range 3 { // many calls, one instance reused
		if _, err := h.Transform(ctx, "wat", &abi.Input{Request: abi.Request{Body: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadEndsOnAHangingStart: loading a module whose hookhub_abi_version
// or hookhub_config_schema never returns fails by the start limit, with the
// export named; in each isolation (a worker, which cannot interrupt its
// guest, reports and exits instead of waiting for the host to kill it).
func TestLoadEndsOnAHangingStart(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHostIn(t, mode)
			for file, export := range map[string]string{"hang-abi.wat": "hookhub_abi_version", "hang-schema.wat": "hookhub_config_schema",
				"hang-start.wat": "its start function"} {
				wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/"+file)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				err := h.Load(ctx, pluginhost.Module{Name: "hang", Wasm: wasm, Timeout: 100 * time.Millisecond})
				cancel()
				if want := "plugin hang: " + export + ": did not return within 5s"; err == nil || err.Error() != want {
					t.Errorf("%s: got %v, want %q", file, err, want)
				}
			}
		})
	}
}

// TestInProcessStopsAnyGuest: in the hub's process, a transform that never
// returns ends at its time limit whether it spins in a loop with no call
// in it (the check at each loop head) or recurses without a loop (the check
// at each function's entry), and the plugin's next call gets a fresh
// instance that is stopped the same way.
func TestInProcessStopsAnyGuest(t *testing.T) {
	h := newHostIn(t, pluginhost.IsolationInProcess)
	ctx := context.Background()
	const limit = 100 * time.Millisecond
	for _, name := range []string{"spin", "fanout"} {
		wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/"+name+".wat")
		if err := h.Load(ctx, pluginhost.Module{Name: name, Wasm: wasm, Timeout: limit}); err != nil {
			t.Fatal(err)
		}
		for round := range 2 {
			start := time.Now()
			_, err := h.Transform(ctx, name, input(10))
			took := time.Since(start)
			if want := "plugin " + name + ": exceeded its time limit"; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s, round %d: got %v, want %q", name, round, err, want)
			}
			if took > limit+time.Second {
				t.Errorf("%s, round %d: the call took %v, its limit is %v", name, round, took, limit)
			}
		}
	}
}

// TestInProcessGuestLetsTheRuntimeStop: a guest spinning in the hub's
// process does not hold up the Go runtime's stop-the-world pauses. Go cannot
// preempt code it did not compile, so without the checks' periodic exit to
// Go a garbage collection would wait for the guest, the whole hub with it,
// and so would the timer that stops the guest: a hang, not a time limit
// (without the exit, this test hangs until the test binary's -timeout).
func TestInProcessGuestLetsTheRuntimeStop(t *testing.T) {
	h := newHostIn(t, pluginhost.IsolationInProcess)
	ctx := context.Background()
	wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/spin.wat")
	if err := h.Load(ctx, pluginhost.Module{Name: "spin", Wasm: wasm, Timeout: 3 * time.Second, Instances: 1}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Transform(ctx, "spin", input(10))
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // the guest is spinning
	for range 3 {
		runtime.GC()
	}
	select {
	case err := <-done:
		t.Fatalf("the collections waited for the guest to end (%v)", err)
	default: // they did not wait: the guest is still spinning
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "exceeded its time limit") {
		t.Errorf("got %v, want the time limit", err)
	}
}
