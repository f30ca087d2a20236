package pluginhost_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// BenchmarkJSPlugin measures small js handlers per call, in the hub's
// process (interrupt) and in a worker process, beside the wasm passthrough
// (the host's own cost): the difference is what the script and the engine
// add. The engine (built from its source by wasmtest.JSEngine) and its
// compiled code are kept in the tests' shared plugin cache
// (wasmtest.CacheDir, $TMPDIR/hookhub-plugin-cache), so after the first run
// on the machine neither is paid again:
//
//	go test -run '^$' -bench JSPlugin -benchtime 2000x ./hub/internal/pluginhost/
func BenchmarkJSPlugin(b *testing.B) {
	cache := wasmtest.CacheDir
	script := []byte(`{"script":"function handler(w) { var d = w.payload.data; d.mail = d.email; delete d.email; w.headers['x-event-type'] = w.eventType; return w; }"}`)
	// js-template is the handler `hookhub plugin new --lang js` writes: it
	// reads two fields and replaces the payload.
	handler, err := os.ReadFile(filepath.Join(wasmtest.Root(b), "sdk", "js", "template", "handler.js"))
	if err != nil {
		b.Fatal(err)
	}
	template, _ := json.Marshal(map[string]string{"script": string(handler)})
	for _, mode := range []string{pluginhost.IsolationInProcess, pluginhost.IsolationProcess} {
		o := pluginhost.Options{CacheDir: cache, Log: zerolog.Nop()}
		if mode == pluginhost.IsolationProcess {
			o.WorkerCommand = []string{os.Args[0]}
			o.WorkerEnv = []string{workerEnv + "=1"}
		}
		h, err := pluginhost.New(o)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for name, wasm := range map[string][]byte{"js": wasmtest.JSEngine(b), "passthrough": wasmtest.Build(b, "plugins/passthrough/wasm")} {
			m := pluginhost.Module{Name: name, Wasm: wasm, MemoryMiB: 64, Timeout: time.Second, Isolation: mode}
			if err := h.Load(context.Background(), m); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("%s: loaded in %v", mode, time.Since(start))
		for _, name := range []string{"passthrough", "js", "js-template"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				in := input(800)
				in.Config = script
				module := name
				if name == "js-template" {
					in.Config, module = template, "js"
				}
				ctx := context.Background()
				// The first call makes the webhook's runtime (tens of ms).
				if _, err := h.Transform(ctx, module, in); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := h.Transform(ctx, module, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		_ = h.Close(context.Background())
	}
}
