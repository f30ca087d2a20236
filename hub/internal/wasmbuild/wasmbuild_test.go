package wasmbuild_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/wasmbuild"
)

// TestBuildKeepsBySource: a build is kept by its source's hash; building
// again reads it without the toolchain; changing a source file builds anew.
func TestBuildKeepsBySource(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	mod := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/p\n\ngo 1.24\n")
	write("main.go", "package main\n\n//go:wasmexport one\nfunc one() int32 { return 1 }\n\nfunc main() {}\n")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	cache := t.TempDir()
	ctx := context.Background()
	first, err := wasmbuild.Build(ctx, gobin, mod, ".", "p", cache)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Built || len(first.Wasm) < 8 || string(first.Wasm[:4]) != "\x00asm" {
		t.Fatalf("first build: built %v, %d bytes", first.Built, len(first.Wasm))
	}
	again, err := wasmbuild.Build(ctx, gobin, mod, ".", "p", cache)
	if err != nil || again.Built || again.File != first.File || string(again.Wasm) != string(first.Wasm) {
		t.Fatalf("second build: %v, built %v, file %s (first %s); want the kept file, not built", err, again.Built, again.File, first.File)
	}
	write("main.go", "package main\n\n//go:wasmexport one\nfunc one() int32 { return 2 }\n\nfunc main() {}\n")
	changed, err := wasmbuild.Build(ctx, gobin, mod, ".", "p", cache)
	if err != nil || !changed.Built || changed.File == first.File {
		t.Fatalf("after a change: %v, built %v, file %s; want a new build", err, changed.Built, changed.File)
	}
}
