package wasmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CacheDir is the plugin cache that tests share across test binaries and
// runs on one machine: the js engine JSEngine builds, and wazero's compiled
// code (hubtest's hubs use it as their plugin cache). The engine is kept by
// the hash of its source, compiled code by the hash of the module, so a
// change never reads a stale entry.
var CacheDir = filepath.Join(os.TempDir(), "hookhub-plugin-cache")

// jsEngineSource is what plugins/js/quickjs/build.sh builds the js engine
// from, beside QuickJS's own source (pinned by version in build.sh).
var jsEngineSource = []string{
	"plugins/js/quickjs/build.sh", "plugins/js/quickjs/engine.c",
	"plugins/js/config.schema.json", "sdk/c/hookhub.h",
}

// JSEngine builds the js plugin's engine from its source with
// plugins/js/quickjs/build.sh (clang, wasi-libc, QuickJS through the Go
// module proxy), keeping it in CacheDir by the hash of that source: the
// first test binary on the machine that needs it builds it (about 20 s),
// the others read it. It skips as BuildCTemplate does where clang is
// missing.
func JSEngine(t testing.TB) []byte {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built["js engine"]; ok {
		return b
	}
	h := sha256.New()
	for _, f := range jsEngineSource {
		b, err := os.ReadFile(filepath.Join(Root(t), f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\x00"))
		h.Write(b)
	}
	h.Write([]byte(Clang())) // another clang, other bytes
	file := filepath.Join(CacheDir, "js-quickjs-"+hex.EncodeToString(h.Sum(nil))[:16]+".wasm")
	b, err := os.ReadFile(file)
	if err != nil {
		checkClang(t)
		if err := os.MkdirAll(CacheDir, 0o750); err != nil {
			t.Fatal(err)
		}
		tmp, err := os.CreateTemp(CacheDir, "js-quickjs-*.tmp")
		if err != nil {
			t.Fatal(err)
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		cmd := exec.Command("sh", filepath.Join(Root(t), "plugins", "js", "quickjs", "build.sh"))
		cmd.Env = append(os.Environ(), "OUT="+tmp.Name())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building the js engine: %v\n%s", err, out)
		}
		if b, err = os.ReadFile(tmp.Name()); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp.Name(), file); err != nil {
			t.Fatal(err)
		}
	}
	built["js engine"] = b
	return b
}

// Clang is the first line of the clang on PATH's --version ("" without
// one): what plugins/js/quickjs/build.sh notes in clang-version.txt.
func Clang() string {
	out, _ := exec.Command("clang", "--version").Output()
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
}
