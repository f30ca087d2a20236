// Command wasm is the passthrough plugin built to WebAssembly.
package main

import (
	"github.com/hookhub/hookhub/plugins/passthrough"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() { plugin.Handle(passthrough.Transform) }

func main() {}
