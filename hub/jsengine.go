package hub

import (
	"context"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/plugins/js"
)

// The js plugin (plugins/js) runs only in the WebAssembly sandbox. Its
// engine, QuickJS built to WebAssembly, is embedded in the hub
// (plugins/js.Engine), so a hub needs no toolchain for it; a module named
// js under plugins[] replaces it. It is compiled when a webhook first uses
// js, and wazero's compilation cache (<data_dir>/plugin-cache) keeps the
// compiled code for the next start.

// JSMemoryMiB is the js engine's memory cap, above the 16 MiB of other
// modules: the engine itself needs about 1.2 MiB, but a script's objects
// are larger than their JSON, and a batching webhook's body may be several
// MiB. A js module listed under plugins[] sets its own (memory_mib).
const JSMemoryMiB = 64

// JSTimeout is the js engine's time limit per call, above the 100 ms of
// other modules: a webhook's first call on an instance also runs its
// script, and a batch's body may be megabytes to parse and turn back into
// JSON. An endless loop still ends at it.
const JSTimeout = time.Second

func registerJS(h *pluginhost.Host) {
	h.RegisterLazy(pluginhost.Lazy{
		Module:      pluginhost.Module{Name: "js", MemoryMiB: JSMemoryMiB, Timeout: JSTimeout},
		Make:        func(context.Context) ([]byte, error) { return js.Engine, nil },
		CheckByCall: true,
	})
}
