// Command wasm is the js plugin's engine built to WebAssembly; the hub builds
// it when a webhook first uses js (see plugins/js/README.md):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -o js.wasm ./plugins/js/wasm
package main

import (
	"runtime/debug"

	"github.com/hookhub/hookhub/plugins/js"
	"github.com/hookhub/hookhub/sdk/plugin"
)

var engine = js.NewEngine()

// The engine's collector: a call makes a few KiB of garbage over a live heap
// of about 10 MiB (the engine's runtime and static data), so at Go's default
// (GOGC 100) it would collect every couple of thousand calls, each pass
// walking the whole engine. It collects when the heap is five times the live
// one (GOGC 400) or reaches 40 MiB, whichever comes first: fewer passes, and
// the heap stays well inside the engine's 64 MiB cap (JSMemoryMiB; a cap
// under about 48 MiB is too small for this setting).
const (
	gcPercent   = 400
	memoryLimit = 40 << 20
)

func init() {
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(memoryLimit)
	plugin.HandleWithSchema(engine.Transform, js.ConfigSchema)
}

func main() {}
