package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Beside wazero's compiled code, the cache dir keeps what Load does to a
// module before compiling it, so that loading a module again (a restart,
// hookhub plugin run) does neither again: a marker that the module as it
// came passed checkModule, and the module as limitStack rewrote it. Both
// are keyed by the module's sha256 and by this executable (its size and
// time), so a new build of the host, whose checks or rewrite may differ,
// starts afresh. They are trusted as wazero's compiled code there is: the
// cache dir is the operator's.

// hostKey names this executable's build.
var hostKey = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%x-%x", fi.Size(), fi.ModTime().UnixNano())
})

// staleBuildAge is how long another build's folder under hookhub-modules
// lies unchanged before a host removes it: each build of the host starts
// afresh, so without this every build left its folder for good.
const staleBuildAge = 7 * 24 * time.Hour

// modulesDir is the cache dir's folder for Load's work, one folder per build
// of the host (hostKey).
const modulesDir = "hookhub-modules"

// pruneOtherBuilds removes the hookhub-modules folders of other builds of
// the host that nothing has written to for staleBuildAge (a build still in
// use there only redoes its checks and rewrites). Errors only leave files.
func pruneOtherBuilds(dir string, now time.Time) {
	root := filepath.Join(dir, modulesDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == hostKey() {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleBuildAge {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

func cachedPath(dir, kind string, wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return filepath.Join(dir, modulesDir, hostKey(), kind+"-"+hex.EncodeToString(sum[:]))
}

// writeCached writes a cache file whole or not at all; a failure only
// costs the next load the work.
func writeCached(file string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		_ = os.Remove(tmp.Name())
	}
}

// checkModuleCached is checkModule, skipped for a module that passed it
// before (with a cache dir).
func checkModuleCached(ctx context.Context, m Module, dir string) (readsURL bool, err error) {
	if dir == "" {
		return checkModule(ctx, m)
	}
	// The marker holds what the check learnt: "url" when the module
	// reads the URL (exports abi.URLExport).
	marker := cachedPath(dir, "checked", m.Wasm)
	if b, err := os.ReadFile(marker); err == nil {
		return string(b) == "url", nil
	}
	if readsURL, err = checkModule(ctx, m); err != nil {
		return false, err
	}
	note := []byte{}
	if readsURL {
		note = []byte("url")
	}
	writeCached(marker, note)
	return readsURL, nil
}

// limitStackCached is limitStack, read back from the cache dir when it
// rewrote the module before.
func limitStackCached(wasm []byte, dir string) ([]byte, error) {
	if dir == "" {
		return limitStack(wasm)
	}
	file := cachedPath(dir, "stack", wasm) + ".wasm"
	if b, err := os.ReadFile(file); err == nil {
		return b, nil
	}
	out, err := limitStack(wasm)
	if err == nil {
		writeCached(file, out)
	}
	return out, err
}
