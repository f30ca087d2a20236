// A plugin that exits the process it thinks it has.
package main

import (
	"os"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		os.Stderr.WriteString("giving up\n")
		os.Exit(3)
		return nil, nil
	})
}

func main() {}
