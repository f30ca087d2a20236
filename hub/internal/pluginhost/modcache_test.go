package pluginhost_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestModuleCacheKeepsCheckAndStack: with a cache dir, a module's check
// and stack rewrite are kept, so a second host loads it without either
// (hookhub plugin run of a cached module); a module that fails its check
// keeps failing, and leaves nothing kept.
func TestModuleCacheKeepsCheckAndStack(t *testing.T) {
	wasm := wasmtest.BuildWAT(t, "examples/wat-plugin/passthrough.wat")
	dir := t.TempDir()
	ctx := context.Background()
	for round := range 2 {
		h, err := pluginhost.New(pluginhost.Options{CacheDir: dir, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Load(ctx, pluginhost.Module{Name: "pass", Wasm: wasm, Timeout: time.Second}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		out, err := h.Transform(ctx, "pass", input(10))
		if err != nil || !strings.Contains(string(out.Request.Body), `"contact.updated"`) {
			t.Errorf("round %d: %+v, %v", round, out, err)
		}
		bad := append([]byte(nil), wasm...)
		bad = bad[:len(bad)/2]
		if err := h.Load(ctx, pluginhost.Module{Name: "bad", Wasm: bad}); err == nil || !strings.Contains(err.Error(), "not a valid WebAssembly module") {
			t.Errorf("round %d: a truncated module: %v", round, err)
		}
		_ = h.Close(ctx)
	}
	checked, _ := filepath.Glob(filepath.Join(dir, "hookhub-modules", "*", "checked-*"))
	stack, _ := filepath.Glob(filepath.Join(dir, "hookhub-modules", "*", "stack-*.wasm"))
	if len(checked) != 1 || len(stack) != 1 {
		t.Fatalf("kept: checked %v, stack %v; want one of each (the good module's)", checked, stack)
	}
	if b, err := os.ReadFile(stack[0]); err != nil || len(b) <= len(wasm) {
		t.Errorf("the kept stack rewrite is %d bytes (%v); the module is %d", len(b), err, len(wasm))
	}
}
