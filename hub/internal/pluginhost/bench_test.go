package pluginhost_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/plugins"
)

// BenchmarkPlugin measures the plugin stage for one 1 KiB event: each
// first-party plugin as the hub runs it (native) and sandboxed in wasm, in
// the hub's process with the interrupt (wasm) and in a worker process
// (process).
//
//	go test -run '^$' -bench Plugin -benchmem ./hub/internal/pluginhost/
func BenchmarkPlugin(b *testing.B) {
	for _, mode := range []string{"wasm", "process"} {
		iso := pluginhost.IsolationInProcess
		if mode == "process" {
			iso = pluginhost.IsolationProcess
		}
		b.Run("example/"+mode, func(b *testing.B) {
			// A customer's plugin (examples/plugin: sdk/field and appends), sandboxed.
			h := newHostIn(b, iso)
			load(b, h, "example", "examples/plugin", 16, time.Second)
			in := input(800)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Transform(context.Background(), "example", in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, name := range []string{"passthrough", "mapper", "form", "brevo"} {
		cfg := []byte(nil)
		if name == "mapper" {
			cfg = []byte(`{"filter":{"field":"data.plan","in":["pro","team"]},"pick":["type","timestamp","data"],"rename":{"data.email":"email"},"set":{"source":"hookhub"},"drop":["data.attributes.NOTE"]}`)
		}
		for _, mode := range []string{"native", "wasm", "process"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				h := newHost(b)
				if mode == "process" {
					h = newHostIn(b, pluginhost.IsolationProcess)
				}
				if mode == "native" {
					p := plugins.FirstParty[name]
					if err := h.Register(name, pluginhost.Native{Transform: p.Transform, ConfigSchema: p.ConfigSchema}); err != nil {
						b.Fatal(err)
					}
				} else {
					load(b, h, name, "plugins/"+name+"/wasm", 16, time.Second)
				}
				in := input(800)
				in.Config = cfg
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := h.Transform(ctx, name, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
