// Command wasm is the slack plugin built to WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o slack.wasm ./plugins/slack/wasm
package main

import (
	"github.com/hookhub/hookhub/plugins/slack"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() { plugin.HandleWithSchema(slack.Transform, slack.ConfigSchema) }

func main() {}
