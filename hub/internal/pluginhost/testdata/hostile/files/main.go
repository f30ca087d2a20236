// A plugin that tries to read the host's files and environment.
package main

import (
	"fmt"
	"os"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		b, err := os.ReadFile("/etc/passwd")
		body := fmt.Sprintf("read %d bytes, err=%v, env=%d", len(b), err, len(os.Environ()))
		return plugin.Send(abi.Request{ContentType: "text/plain", Body: []byte(body)})
	})
}

func main() {}
