// Package main is a custom hookhub plugin to copy and make your own. The
// logic is a plain Go function (tested by transform_test.go with go test);
// main.go has the two lines that make it a plugin.
//
// This one sends a compact JSON body for CRM systems: who, what, when, and
// adds a header naming the event type. It reads the event with gjson, a
// reflection-free JSON reader, and writes its answer by appending: in a
// sandboxed plugin that is many times faster than encoding/json. Build and
// try it:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o crm.wasm ./examples/plugin
//	go run ./hub/cmd/hookhub plugin run --wasm crm.wasm --event examples/plugin/testdata/event.json
package main

import (
	"errors"
	"maps"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/sdk/abi"
)

// Transform turns one event into the CRM's body. An event without an email
// is skipped: the CRM would have nothing to attach it to.
func Transform(in *abi.Input) (*abi.Output, error) {
	if len(in.Events) != 1 {
		return nil, errors.New("this plugin sends one event per request")
	}
	ev := in.Events[0]
	if !gjson.ValidBytes(ev) {
		return nil, errors.New("the event is not JSON")
	}
	r := gjson.GetManyBytes(ev, "type", "data.email", "time", "source")
	typ, email, at, source := r[0].String(), r[1].String(), r[2].String(), r[3].String()
	if email == "" {
		return &abi.Output{Skip: true}, nil
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"event":`...)
	b = appendString(b, typ)
	b = append(b, `,"email":`...)
	b = appendString(b, email)
	if at != "" {
		b = append(b, `,"at":`...)
		b = appendString(b, at)
	}
	b = append(b, `,"source":`...)
	b = appendString(b, source)
	b = append(b, '}')
	headers := maps.Clone(in.Request.Headers)
	if headers == nil {
		headers = map[string]string{}
	}
	headers["X-Event-Type"] = typ
	return &abi.Output{Request: abi.Request{ContentType: "application/json", Headers: headers, Query: in.Request.Query, Body: b}}, nil
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
