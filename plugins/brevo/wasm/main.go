// Command wasm is the brevo plugin built to WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o brevo.wasm ./plugins/brevo/wasm
package main

import (
	"github.com/hookhub/hookhub/plugins/brevo"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() { plugin.HandleWithSchema(brevo.Transform, brevo.ConfigSchema) }

func main() {}
