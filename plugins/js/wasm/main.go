// Command wasm is the js plugin's engine built to WebAssembly; the hub builds
// it when a webhook first uses js (see plugins/js/README.md):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o js.wasm ./plugins/js/wasm
package main

import (
	"github.com/hookhub/hookhub/plugins/js"
	"github.com/hookhub/hookhub/sdk/plugin"
)

var engine = js.NewEngine()

func init() { plugin.HandleWithSchema(engine.Transform, js.ConfigSchema) }

func main() {}
