package pluginhost_test

import (
	"context"
	"reflect"
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
			for file, export := range map[string]string{"hang-abi.wat": "hookhub_abi_version", "hang-schema.wat": "hookhub_config_schema"} {
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
