// A plugin that reads the clock and randomness.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func init() {
	plugin.Handle(func(in *abi.Input) (*abi.Output, error) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		body := time.Now().UTC().Format(time.RFC3339) + " " + hex.EncodeToString(b[:])
		return plugin.Send(abi.Request{ContentType: "text/plain", Body: []byte(body)})
	})
}

func main() {}
