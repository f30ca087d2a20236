package pluginhost_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// TestInputURLOnlyForModulesThatReadIt: a module built for ABI 1.0 (no
// hookhub_abi_url export) still loads and gets the 1.0 input byte for byte,
// with no URL, in each isolation; a module that exports hookhub_abi_url gets
// the input with its trailing URL.
func TestInputURLOnlyForModulesThatReadIt(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHostIn(t, mode)
			ctx := context.Background()
			for _, name := range []string{"echo-input", "echo-input-url"} {
				wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/"+name+".wat")
				if err := h.Load(ctx, pluginhost.Module{Name: name, Wasm: wasm}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			in := input(100)
			in.URL = "https://crm.example/hooks?key=1"
			v10 := *in
			v10.URL = ""
			for name, want := range map[string][]byte{
				"echo-input":     abi.AppendInput(nil, &v10),
				"echo-input-url": abi.AppendInput(nil, in),
			} {
				out, err := h.Transform(ctx, name, in)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !bytes.Equal(out.Request.Body, want) {
					t.Errorf("%s got the input\n%q\nwant\n%q", name, out.Request.Body, want)
				}
			}
			if in.URL == "" {
				t.Error("Transform changed the caller's input")
			}
		})
	}
}
