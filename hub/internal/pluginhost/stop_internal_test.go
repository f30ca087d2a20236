package pluginhost

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// FuzzRewrite: the rewrite (stack bound and stop checks) never panics on
// any bytes, and what it takes and wazero compiles still compiles
// rewritten. The hub hands wazero only what the rewrite took (Load reads the
// module with it first): wazero's decoder allocates by the counts a module
// claims, and this fuzzer found modules that made it ask for gigabytes.
// Seeds are the test modules in WebAssembly text, which cover loops,
// blocks, calls, a start function and the instructions' immediates.
//
//	go test -run '^$' -fuzz FuzzRewrite -fuzztime 60s ./hub/internal/pluginhost/
func FuzzRewrite(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(wasmtest.Root(f), "hub/internal/pluginhost/testdata/wat/*.wat"))
	files = append(files, filepath.Join(wasmtest.Root(f), "examples/wat-plugin/passthrough.wat"))
	if _, err := lookWAT(); err == nil {
		for _, file := range files {
			if name := filepath.Base(file); name == "reset-stack.wat" || name == "reset-stop.wat" {
				continue // invalid on purpose (wat2wasm --no-check)
			}
			rel, _ := filepath.Rel(wasmtest.Root(f), file)
			f.Add(wasmtest.BuildWAT(f, rel))
		}
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := limitStack(wasm)
		if err != nil {
			if !strings.Contains(err.Error(), "malformed WebAssembly module") {
				t.Fatalf("refused without saying why: %v", err)
			}
			return
		}
		m, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			return // wazero refuses it too
		}
		_ = m.Close(ctx)
		m2, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("the rewritten module does not compile: %v", err)
		}
		_ = m2.Close(ctx)
	})
}
