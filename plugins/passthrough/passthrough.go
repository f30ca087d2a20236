// Package passthrough is the smallest plugin: it sends the request it is
// given, unchanged. It measures the plugin stage itself.
package passthrough

import "github.com/hookhub/hookhub/sdk/abi"

// Transform returns the request as it came.
func Transform(in *abi.Input) (*abi.Output, error) { return &abi.Output{Request: in.Request}, nil }
