package wasmtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/wasmbuild"
)

// CacheDir is the plugin cache that tests share across test binaries and
// runs on one machine: modules BuildKept keeps, and wazero's compiled code
// (hubtest's hubs use it as their plugin cache). Builds are kept by the hash
// of their source, compiled code by the hash of the module, so a change
// never reads a stale entry.
var CacheDir = filepath.Join(os.TempDir(), "hookhub-plugin-cache")

// BuildKept is Build through package wasmbuild (-trimpath -ldflags=-s -w),
// keeping the module in CacheDir by the hash of its source: the first test
// binary on the machine that needs it builds it, the others read it (the
// hub's own js engine build reads and writes the same file). For the big
// js engine; small plugins build fast enough with Build.
func BuildKept(t testing.TB, dir string) []byte {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "kept " + dir
	if b, ok := built[key]; ok {
		return b
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go is not on PATH")
	}
	name := filepath.Base(filepath.Dir(dir)) + "-src"
	r, err := wasmbuild.Build(context.Background(), gobin, Root(t), "./"+dir, name, CacheDir)
	if err != nil {
		t.Fatalf("building %s to wasm: %v", dir, err)
	}
	built[key] = r.Wasm
	return r.Wasm
}
