// Package wasmtest builds WebAssembly plugins from their Go source for tests,
// with the real Go toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared).
// Go's build cache makes a rebuild cheap; a build is also shared by every
// test of one test binary.
package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string][]byte{}
)

// Root is the module's root folder (where go.mod is).
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Build compiles the main package in dir (relative to the module root, such
// as "plugins/form/wasm") and returns the module's bytes.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[dir]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), filepath.Base(filepath.Dir(dir))+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+dir)
	cmd.Dir = Root(t)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s to wasm: %v\n%s", dir, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built[dir] = b
	return b
}

// FirstParty lists the first-party plugins that have a wasm build.
func FirstParty(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(Root(t), "plugins", "*", "wasm"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	sort.Strings(names)
	if len(names) == 0 || strings.Contains(names[0], string(filepath.Separator)) {
		t.Fatal("no first-party plugins found")
	}
	return names
}

// BuildWAT assembles a WebAssembly text file (relative to the module root)
// with wabt's wat2wasm, and skips the test with a clear message where wabt
// is not installed (apt-get install wabt).
func BuildWAT(t testing.TB, file string) []byte {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm is not installed (Debian: apt-get install wabt): the WebAssembly-text plugin is not checked")
	}
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	if b, err := exec.Command(tool, filepath.Join(Root(t), file), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", file, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
