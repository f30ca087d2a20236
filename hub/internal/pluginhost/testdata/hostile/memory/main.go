// A plugin that allocates until it dies.
package main

import (
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

var keep [][]byte

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		for {
			b := make([]byte, 1<<20)
			b[0] = 1
			keep = append(keep, b)
		}
	})
}

func main() {}
