// Command wasm is the getresponse plugin built to WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o getresponse.wasm ./plugins/getresponse/wasm
package main

import (
	"github.com/hookhub/hookhub/plugins/getresponse"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() { plugin.HandleWithSchema(getresponse.Transform, getresponse.ConfigSchema) }

func main() {}
