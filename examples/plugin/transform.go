// Package main is a custom hookhub plugin to copy and make your own. The
// logic is a plain Go function (tested by transform_test.go with go test);
// main.go has the two lines that make it a plugin.
//
// This one sends a compact JSON body for CRM systems: who, what, when, and
// adds a header naming the event type. Build and try it:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o crm.wasm ./examples/plugin
//	go run ./hub/cmd/hookhub plugin run --wasm crm.wasm --event examples/plugin/testdata/event.json
package main

import (
	"encoding/json"
	"errors"
	"maps"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/event"
)

type crmBody struct {
	Event  string `json:"event"`
	Email  string `json:"email"`
	At     string `json:"at,omitempty"`
	Source string `json:"source"`
}

// Transform turns one event into the CRM's body. An event without an email
// is skipped: the CRM would have nothing to attach it to.
func Transform(in *abi.Input) (*abi.Output, error) {
	if len(in.Events) != 1 {
		return nil, errors.New("this plugin sends one event per request")
	}
	var e event.Event
	if err := json.Unmarshal(in.Events[0], &e); err != nil {
		return nil, errors.New("the event is not a JSON CloudEvent")
	}
	var data struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(e.Data, &data)
	if data.Email == "" {
		return &abi.Output{Skip: true}, nil
	}
	body := crmBody{Event: e.Type, Email: data.Email, Source: e.Source}
	if e.Time != nil {
		body.At = e.Time.UTC().Format("2006-01-02T15:04:05Z")
	}
	b, _ := json.Marshal(body)
	headers := maps.Clone(in.Request.Headers)
	if headers == nil {
		headers = map[string]string{}
	}
	headers["X-Event-Type"] = e.Type
	return &abi.Output{Request: abi.Request{ContentType: "application/json", Headers: headers, Query: in.Request.Query, Body: b}}, nil
}
