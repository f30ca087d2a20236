// Package main is a test plugin whose errors repeat what it was given: the
// webhook's X-Api-Key header and its config's secret fields, as a careless
// plugin's might. Its config schema marks api_key writeOnly and auth.token
// x-secret.
package main

import (
	"encoding/json"
	"errors"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

var schema = []byte(`{"type":"object","additionalProperties":false,"properties":{
 "api_key":{"type":"string","writeOnly":true},
 "auth":{"type":"object","properties":{"token":{"type":"string","x-secret":true}}},
 "label":{"type":"string"}}}`)

func transform(in *abi.Input) (*abi.Output, error) {
	var c struct {
		APIKey string `json:"api_key"`
		Auth   struct {
			Token string `json:"token"`
		} `json:"auth"`
	}
	_ = json.Unmarshal(in.Config, &c)
	return nil, errors.New("upstream refused X-Api-Key " + in.Request.Headers["X-Api-Key"] + ", api_key " + c.APIKey + ", token " + c.Auth.Token)
}

func init() { plugin.HandleWithSchema(transform, schema) }

func main() {}
