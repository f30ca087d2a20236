package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// workerEnv makes this test binary serve as a plugin worker (see TestMain),
// for plugin bench's worker mode.
const workerEnv = "HOOKHUB_TEST_PLUGIN_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := pluginhost.ServeWorker(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	benchWorker = func() ([]string, []string) { return []string{os.Args[0]}, []string{workerEnv + "=1"} }
	os.Exit(m.Run())
}

// exampleWasm writes examples/plugin, built from source, to a file.
func exampleWasm(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "crm.wasm")
	if err := os.WriteFile(file, wasmtest.Build(t, "examples/plugin"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestPluginRunSample: --sample runs the plugin on the catalog's sample of
// a type; the compiled module is kept in --cache-dir, and a second run
// finds it there; a type not in the catalog, a file that is not wasm, and
// --sample with --event are refused, each saying why.
func TestPluginRunSample(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a Go module")
	}
	wasm, cache := exampleWasm(t), t.TempDir()
	args := []string{"plugin", "run", "--sample", "contact.updated", "--wasm", wasm, "--cache-dir", cache}
	out, errs, code := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "X-Event-Type: contact.updated") || !strings.Contains(out, `"source":"hookhub/sample"`) {
		t.Fatalf("plugin run --sample (exit %d):\n%s%s", code, out, errs)
	}
	kept, _ := filepath.Glob(filepath.Join(cache, "wazero-*", "*"))
	if len(kept) == 0 {
		t.Fatalf("nothing kept in the cache dir %s", cache)
	}
	start := time.Now()
	out2, errs, code := runCLI(t, args...)
	took := time.Since(start)
	if code != 0 || stripSignature(out2) != stripSignature(out) {
		t.Errorf("second run (exit %d) differs:\n%s%s\nfirst:\n%s", code, out2, errs, out)
	}
	t.Logf("plugin run of the cached examples/plugin module: %v", took)

	_, errs, code = runCLI(t, "plugin", "run", "--sample", "contact.updatd", "--wasm", wasm)
	if code != 1 || !strings.Contains(errs, `"contact.updatd" is not in the event-type catalog (did you mean "contact.updated"?)`) {
		t.Errorf("unknown sample type (exit %d): %s", code, errs)
	}
	_, errs, code = runCLI(t, "plugin", "run", "--sample", "contact.updated", "--wasm", "../../../examples/wat-plugin/passthrough.wat")
	if code != 1 || !strings.Contains(errs, "is not a WebAssembly module") || !strings.Contains(errs, "wat2wasm") {
		t.Errorf("a .wat file (exit %d): %s", code, errs)
	}
	_, _, code = runCLI(t, "plugin", "run", "--sample", "contact.updated", "--event", eventFile, "--wasm", wasm)
	if code != 2 {
		t.Errorf("--sample with --event: exit %d, want 2", code)
	}
}

// stripSignature leaves out the lines that differ on every run.
func stripSignature(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "Webhook-Signature:") && !strings.HasPrefix(l, "Webhook-Timestamp:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestPluginTestGolden: plugin test passes on a new Go project as
// generated; a changed golden file fails it with a diff and exit 1, and so
// does a missing one; --update writes them and it passes again.
func TestPluginTestGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a Go module")
	}
	dir, cache := newProject(t, "go"), t.TempDir()
	build(t, dir)
	out, errs, code := runCLI(t, "plugin", "test", dir, "--cache-dir", cache)
	if code != 0 || !strings.Contains(out, "PASS: 3 events") {
		t.Fatalf("plugin test as generated (exit %d):\n%s%s", code, out, errs)
	}
	golden := filepath.Join(dir, "expected", "contact.updated.http")
	b, _ := os.ReadFile(golden)
	if err := os.WriteFile(golden, []byte(strings.Replace(string(b), "ada@example.com", "bob@example.com", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "expected", "contact.deleted.http"))
	out, errs, code = runCLI(t, "plugin", "test", dir, "--cache-dir", cache)
	if code != 1 || !strings.Contains(out, "FAIL contact.updated") || !strings.Contains(out, `-{"event":"contact.updated","email":"bob@example.com"`) ||
		!strings.Contains(out, `+{"event":"contact.updated","email":"ada@example.com"`) || !strings.Contains(out, "ok   contact.added") ||
		!strings.Contains(out, "FAIL contact.deleted: no ") || !strings.Contains(errs, "2 of 3 events differ") {
		t.Errorf("plugin test with a changed and a missing golden file (exit %d):\n%s%s", code, out, errs)
	}
	if out, errs, code = runCLI(t, "plugin", "test", dir, "--update", "--cache-dir", cache); code != 0 {
		t.Fatalf("--update (exit %d): %s%s", code, out, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "expected", "contact.deleted.http")); string(b) != "skipped\n" {
		t.Errorf("--update wrote %q for an event the plugin skips", b)
	}
	if out, errs, code = runCLI(t, "plugin", "test", dir, "--cache-dir", cache); code != 0 {
		t.Errorf("after --update (exit %d): %s%s", code, out, errs)
	}
	_, errs, code = runCLI(t, "plugin", "test", t.TempDir())
	if code != 1 || !strings.Contains(errs, "no events/*.json") {
		t.Errorf("a folder without events (exit %d): %s", code, errs)
	}
	_ = os.Remove(filepath.Join(dir, "plugin.wasm"))
	_, errs, code = runCLI(t, "plugin", "test", dir)
	if code != 1 || !strings.Contains(errs, "plugin.wasm does not exist: build the plugin first") {
		t.Errorf("a project not built (exit %d): %s", code, errs)
	}
}

// TestPluginBench: plugin bench times the module in a worker process and
// in-process, as many calls as asked, and reports its memory.
func TestPluginBench(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a Go module")
	}
	wasm := exampleWasm(t)
	out, errs, code := runCLI(t, "plugin", "bench", wasm, "--json", "--n", "50", "--time", "5s", "--cache-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("plugin bench (exit %d): %s%s", code, out, errs)
	}
	var r pluginBench
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for mode, m := range map[string]*benchTimes{"worker": r.Worker, "in-process": r.InProcess} {
		if m == nil || m.Calls != 50 || m.P50us <= 0 || m.P99us < m.P50us || m.CallsPerSec <= 0 {
			t.Errorf("%s: %+v", mode, m)
		}
	}
	if r.EventBytes != 1024 || r.Memory.GuestPages == 0 || r.Memory.WorkerRSSBytes < 1<<20 {
		t.Errorf("event %d bytes, memory %+v", r.EventBytes, r.Memory)
	}
	out, _, code = runCLI(t, "plugin", "bench", wasm, "--n", "5", "--event", eventFile, "--cache-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, "in-process") || !strings.Contains(out, "worker process RSS") {
		t.Errorf("plugin bench --event (exit %d): %s", code, out)
	}
	_, errs, code = runCLI(t, "plugin", "bench", eventFile)
	if code != 1 || !strings.Contains(errs, "is not a WebAssembly module") {
		t.Errorf("bench of a JSON file (exit %d): %s", code, errs)
	}
	_, errs, code = runCLI(t, "plugin", "bench", wasm, "--n", "0")
	if code != 1 || !strings.Contains(errs, "--n 0") {
		t.Errorf("--n 0 (exit %d): %s", code, errs)
	}
}

// newProject runs plugin new for lang in a temp dir (a Go project's go.mod
// replaces the SDK with this repository's).
func newProject(t *testing.T, lang string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "crm-"+lang)
	out, errs, code := runCLI(t, "plugin", "new", "crm", "--lang", lang, "--dir", dir, "--sdk", filepath.Join(wasmtest.Root(t), "sdk"))
	if code != 0 {
		t.Fatalf("plugin new --lang %s (exit %d): %s%s", lang, code, out, errs)
	}
	return dir
}

// build runs a new project's build.sh.
func build(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("sh", filepath.Join(dir, "build.sh"))
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s/build.sh: %v\n%s", dir, err, b)
	}
}
