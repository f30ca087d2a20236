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

// TestModuleCacheDropsOtherBuilds: each build of the host keeps its checks
// and rewrites in a folder of its own; a host removes the folders of other
// builds that have lain unchanged for a week, and never its own.
func TestModuleCacheDropsOtherBuilds(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "hookhub-modules")
	weekAgo := time.Now().Add(-8 * 24 * time.Hour)
	for _, name := range []string{"old-build", "recent-build"} {
		if err := os.MkdirAll(filepath.Join(root, name), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, "check-x"), []byte("ok"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(root, "old-build"), weekAgo, weekAgo); err != nil {
		t.Fatal(err)
	}
	h, err := pluginhost.New(pluginhost.Options{CacheDir: dir, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	wasm := wasmtest.BuildWAT(t, "examples/wat-plugin/passthrough.wat")
	if err := h.Load(context.Background(), pluginhost.Module{Name: "pass", Wasm: wasm, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	_ = h.Close(context.Background())
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	own := ""
	for _, e := range entries {
		names = append(names, e.Name())
		if e.Name() != "recent-build" {
			own = e.Name()
		}
	}
	if len(names) != 2 || own == "" || own == "old-build" {
		t.Fatalf("after a start: %v, want recent-build and this build's own", names)
	}
	// This build's folder stays however old it looks.
	if err := os.Chtimes(filepath.Join(root, own), weekAgo, weekAgo); err != nil {
		t.Fatal(err)
	}
	h, err = pluginhost.New(pluginhost.Options{CacheDir: dir, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	_ = h.Close(context.Background())
	if _, err := os.Stat(filepath.Join(root, own)); err != nil {
		t.Errorf("this build's folder was removed: %v", err)
	}
}
