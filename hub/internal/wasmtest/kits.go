package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildCTemplate builds the C kit's template (sdk/c/template) with its
// build.sh, Debian's clang and wasi-libc, and returns the module's bytes. It
// skips the test with a clear message where clang or wasi-libc is missing.
func BuildCTemplate(t testing.TB) []byte {
	t.Helper()
	return buildKit(t, "the C kit's template", func(out string) *exec.Cmd {
		checkClang(t)
		cmd := exec.Command("sh", filepath.Join(Root(t), "sdk", "c", "template", "build.sh"))
		cmd.Env = append(os.Environ(), "OUT="+out)
		return cmd
	})
}

// BuildC builds one C file (relative to the module root) that includes
// hookhub.h into a WASI reactor, skipping as BuildCTemplate does.
func BuildC(t testing.TB, file string) []byte {
	t.Helper()
	return buildKit(t, file, func(out string) *exec.Cmd {
		checkClang(t)
		return exec.Command("clang", "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-Wall", "-Wextra", "-Werror",
			"-I", filepath.Join(Root(t), "sdk", "c"), "-o", out, filepath.Join(Root(t), file))
	})
}

func checkClang(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang is not installed (Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32): the C kit is not checked")
	}
	probe := filepath.Join(t.TempDir(), "probe.c")
	if err := os.WriteFile(probe, []byte("#include <stdlib.h>\nvoid *p(void) { return malloc(1); }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("clang", "--target=wasm32-wasi", "-mexec-model=reactor", "-o", probe+".wasm", probe).CombinedOutput()
	if err != nil {
		t.Skipf("clang cannot build for wasm32-wasi (Debian: apt-get install wasi-libc libclang-rt-dev-wasm32 lld): the C kit is not checked\n%s", firstLine(b))
	}
}

// BuildAssemblyScriptTemplate builds the AssemblyScript kit's template
// (sdk/assemblyscript/template) with its build.sh and the kit's pinned
// compiler, and returns the module's bytes. It skips the test with a clear
// message where node or the kit's node_modules (npm ci) is missing.
func BuildAssemblyScriptTemplate(t testing.TB) []byte {
	t.Helper()
	return buildKit(t, "the AssemblyScript kit's template", func(out string) *exec.Cmd {
		kit := assemblyScriptKit(t)
		cmd := exec.Command("sh", filepath.Join(kit, "template", "build.sh"))
		cmd.Env = append(os.Environ(), "OUT="+out)
		return cmd
	})
}

// BuildAssemblyScript builds the entry file (relative to sdk/assemblyscript)
// with the kit's compiler and asconfig.json, skipping as
// BuildAssemblyScriptTemplate does.
func BuildAssemblyScript(t testing.TB, file string) []byte {
	t.Helper()
	return buildKit(t, "sdk/assemblyscript/"+file, func(out string) *exec.Cmd {
		kit := assemblyScriptKit(t)
		cmd := exec.Command(filepath.Join(kit, "node_modules", ".bin", "asc"), file, "--config", "asconfig.json", "--outFile", out)
		cmd.Dir = kit
		return cmd
	})
}

func assemblyScriptKit(t testing.TB) string {
	t.Helper()
	kit := filepath.Join(Root(t), "sdk", "assemblyscript")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the AssemblyScript kit is not checked")
	}
	if _, err := os.Stat(filepath.Join(kit, "node_modules", ".bin", "asc")); err != nil {
		t.Skip("the AssemblyScript compiler is not installed (run npm ci in sdk/assemblyscript): the AssemblyScript kit is not checked")
	}
	return kit
}

func buildKit(t testing.TB, name string, command func(out string) *exec.Cmd) []byte {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "kit " + name
	if b, ok := built[key]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	if b, err := command(out).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built[key] = b
	return b
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
