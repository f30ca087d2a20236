// Command wasm is the mapper plugin built to WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o mapper.wasm ./plugins/mapper/wasm
package main

import (
	"github.com/hookhub/hookhub/plugins/mapper"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() { plugin.HandleWithSchema(mapper.Transform, mapper.ConfigSchema) }

func main() {}
