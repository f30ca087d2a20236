package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmbuild"
)

// The js plugin (plugins/js) runs only in the WebAssembly sandbox, and no
// .wasm is committed: its engine is made when a webhook first uses js, in
// this order:
//
//  1. a module named js under plugins[] (a prebuilt file, such as
//     bin/plugins/js.wasm from task plugins) replaces all of this;
//  2. a file built before, in the plugin cache folder (<data_dir>/plugin-cache),
//     named for the hub's version and commit (a hub built from a tree with
//     changes, or without version control, builds again: Go's build cache
//     makes that a link);
//  3. else the Go toolchain on PATH builds it from the module's source
//     (package wasmbuild: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
//     -trimpath -ldflags=-s -w github.com/hookhub/hookhub/plugins/js/wasm),
//     run in the hub's working folder (inside the hookhub source tree, or a
//     module that requires it), and keeps it in the same folder named for
//     the hash of its source: a later start, or another hub with the same
//     plugin cache (WithPluginCache), reads it and builds nothing.
//
// wazero's compilation cache (in the same folder) makes a second start fast.
const jsEnginePackage = "github.com/hookhub/hookhub/plugins/js/wasm"

// JSMemoryMiB is the js engine's memory cap: the 16 MiB default of other
// modules is too small for it (its Go runtime and static data take about
// 10 MiB before a script runs). A js module listed under plugins[] sets its
// own (memory_mib).
const JSMemoryMiB = 64

// JSTimeout is the js engine's time limit per call, above the 100 ms of
// other modules: a script's first call on an instance makes its JavaScript
// runtime, which takes tens of milliseconds in the sandbox and more on a
// busy machine. An endless loop still ends at it.
const JSTimeout = time.Second

// jsBuilt holds the engines this process made, by file: one build per
// process (per test binary) whatever the number of hubs.
var jsBuilt sync.Map // string → []byte

var jsBuildMu sync.Mutex

func registerJS(h *pluginhost.Host, cacheDir string) {
	h.RegisterLazy(pluginhost.Lazy{
		Module:      pluginhost.Module{Name: "js", MemoryMiB: JSMemoryMiB, Timeout: JSTimeout},
		Make:        func(ctx context.Context) ([]byte, error) { return makeJSEngine(ctx, cacheDir) },
		CheckByCall: true,
	})
}

// jsEngineFile is where the engine is kept, and whether a kept one may be
// used (it was built from a known, unchanged commit).
func jsEngineFile(cacheDir string) (string, bool) {
	if cacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(d, "hookhub")
		} else {
			cacheDir = filepath.Join(os.TempDir(), "hookhub")
		}
	}
	rev, clean := "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		clean = true
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				clean = clean && s.Value == "false"
			}
		}
	}
	if rev == "" {
		return filepath.Join(cacheDir, "js-"+Version+"-dev.wasm"), false
	}
	return filepath.Join(cacheDir, "js-"+Version+"-"+rev[:min(len(rev), 12)]+".wasm"), clean
}

func makeJSEngine(ctx context.Context, cacheDir string) ([]byte, error) {
	jsBuildMu.Lock()
	defer jsBuildMu.Unlock()
	file, reuse := jsEngineFile(cacheDir)
	if b, ok := jsBuilt.Load(file); ok {
		return b.([]byte), nil
	}
	if reuse {
		if b, err := os.ReadFile(file); err == nil {
			jsBuilt.Store(file, b)
			return b, nil
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New(`its engine is not built and go is not on PATH to build it: ` +
			`build it (task plugins makes bin/plugins/js.wasm) and list it under plugins[] as {"name":"js","path":"bin/plugins/js.wasm","memory_mib":64}`)
	}
	r, err := wasmbuild.Build(ctx, gobin, "", jsEnginePackage, "js-src", filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("building its engine (in the hub's working folder, which must be in the hookhub source tree or a module that requires it; "+
			`or list a prebuilt js.wasm under plugins[]): %w`, err)
	}
	if reuse {
		if err := writeFileAtomic(file, r.Wasm); err != nil {
			return nil, fmt.Errorf("building its engine: %w", err)
		}
	}
	jsBuilt.Store(file, r.Wasm)
	return r.Wasm, nil
}

func writeFileAtomic(file string, b []byte) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
