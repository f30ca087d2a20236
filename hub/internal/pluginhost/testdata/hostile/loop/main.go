// A plugin that never returns.
package main

import (
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		n := 0
		for {
			n++
		}
	})
}

func main() {}
