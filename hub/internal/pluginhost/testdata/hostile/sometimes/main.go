// A plugin that never returns when the webhook is "loop" or its config says
// {"spin":true}, and passes the request through otherwise.
package main

import (
	"bytes"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		if in.Webhook == "loop" || bytes.Contains(in.Config, []byte(`"spin":true`)) {
			n := 0
			for {
				n++
			}
		}
		return plugin.Send(in.Request)
	})
}

func main() {}
