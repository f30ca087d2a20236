// A plugin whose answer is larger than the host accepts.
package main

import (
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		return plugin.Send(abi.Request{ContentType: "text/plain", Body: make([]byte, 9<<20)})
	})
}

func main() {}
