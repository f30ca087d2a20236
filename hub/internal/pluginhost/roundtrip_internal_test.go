package pluginhost

import (
	"context"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// TestWorkerOutlivesItsCalls: once a call has its answer, neither its time
// limit (the timer that kills a worker at the limit) nor the end of its
// context touches the worker: the next calls, after both have passed, are
// served by the same worker process.
func TestWorkerOutlivesItsCalls(t *testing.T) {
	if _, err := lookWAT(); err != nil {
		t.Skip("wat2wasm is not installed")
	}
	h := processHost(t)
	wasm := wasmtest.BuildWAT(t, "examples/wat-plugin/passthrough.wat")
	const limit = 100 * time.Millisecond
	if err := h.Load(context.Background(), Module{Name: "wat", Wasm: wasm, Timeout: limit, Instances: 1}); err != nil {
		t.Fatal(err)
	}
	pp := h.plugins["wat"].wasm.(*procPool)
	first := pp.workers()
	if len(first) != 1 {
		t.Fatalf("%d workers after load, want 1", len(first))
	}
	for i := range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		in := &abi.Input{Webhook: "wh", Request: abi.Request{Body: []byte{byte('a' + i)}}}
		out, err := h.Transform(ctx, "wat", in)
		cancel() // the context ends after its call
		if err != nil || string(out.Request.Body) != string(in.Request.Body) {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(2 * limit) // past the call's limit
	}
	now := pp.workers()
	if len(now) != 1 || now[0] != first[0] {
		t.Fatalf("workers %v after the calls, want the first one, %v, alone", now, first)
	}
	select {
	case <-first[0].exited:
		t.Fatal("the worker exited")
	default:
	}
}
