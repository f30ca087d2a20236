// Package wasmbuild builds a Go main package to a WebAssembly plugin module
// (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared -trimpath -ldflags=-s -w) and
// keeps the module in a folder, named for a hash of everything that goes
// into it: the Go toolchain's version and the source files of every
// non-standard package it is built from. A second build of unchanged source,
// from another process, another test binary or another checkout, reads the
// kept file and runs no toolchain at all.
//
// -trimpath makes the module the same bytes from any checkout, so wazero's
// compilation cache (keyed by the module's hash) finds it compiled too;
// -s -w drops the symbol table and DWARF.
package wasmbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Flags are the go build flags of every module this package builds.
var Flags = []string{"-buildmode=c-shared", "-trimpath", "-ldflags=-s -w"}

// Env is the environment of the build, beside the caller's.
var Env = []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}

// Result is a built module.
type Result struct {
	Wasm []byte
	// File is where it is kept.
	File string
	// Built is whether the toolchain ran (false: read from the kept file).
	Built bool
}

// Build returns the module of the main package pkg (an import path, or a
// ./path relative to dir), built in dir with the go command gobin, kept in
// cacheDir as <name>-<source hash>.wasm.
func Build(ctx context.Context, gobin, dir, pkg, name, cacheDir string) (*Result, error) {
	key, err := SourceKey(ctx, gobin, dir, pkg)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(cacheDir, name+"-"+key[:16]+".wasm")
	if b, err := os.ReadFile(file); err == nil {
		return &Result{Wasm: b, File: file}, nil
	}
	if err := os.MkdirAll(cacheDir, 0o750); err != nil {
		return nil, fmt.Errorf("wasm build cache: %w", err)
	}
	tmp, err := os.CreateTemp(cacheDir, name+"-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("wasm build cache: %w", err)
	}
	_ = tmp.Close()
	defer os.Remove(tmp.Name())
	args := append(append([]string{"build"}, Flags...), "-o", tmp.Name(), pkg)
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %v: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("wasm build: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil { // atomic: a concurrent reader sees all or nothing
		return nil, fmt.Errorf("wasm build cache: %w", err)
	}
	return &Result{Wasm: b, File: file, Built: true}, nil
}

// SourceKey is the hex SHA-256 of what a build of pkg depends on: the
// toolchain's version, the build flags and environment, and the import path,
// module version, file names and contents of each non-standard package in
// its dependencies.
func SourceKey(ctx context.Context, gobin, dir, pkg string) (string, error) {
	cmd := exec.CommandContext(ctx, gobin, "list", "-deps",
		"-f", `{{if not .Standard}}{{.ImportPath}}|{{with .Module}}{{.Path}}@{{.Version}}{{end}}|{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}`, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %v: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	ver, err := exec.CommandContext(ctx, gobin, "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%q\n%q\n", bytes.TrimSpace(ver), Flags, Env)
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 5 {
			return "", fmt.Errorf("go list %s: unexpected line %q", pkg, line)
		}
		// The folder is not hashed: with -trimpath the module is the same
		// from any checkout.
		fmt.Fprintf(h, "pkg %s %s\n", parts[0], parts[1])
		for _, f := range append(strings.Split(parts[3], ","), strings.Split(parts[4], ",")...) {
			if f == "" {
				continue
			}
			if err := hashFile(h, filepath.Join(parts[2], f)); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("wasm build: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(h, "file %s\n", filepath.Base(path))
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("wasm build: %s: %w", path, err)
	}
	_, err = fmt.Fprintln(h)
	return err
}
