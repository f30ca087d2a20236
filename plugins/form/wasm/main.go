// Command wasm is the form plugin built to WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o form.wasm ./plugins/form/wasm
package main

import (
	"github.com/hookhub/hookhub/plugins/form"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() { plugin.HandleWithSchema(form.Transform, form.ConfigSchema) }

func main() {}
