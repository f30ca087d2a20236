// Package main is a custom hookhub plugin to copy and make your own. The
// logic is a plain Go function (tested by transform_test.go with go test);
// main.go has the two lines that make it a plugin.
//
// This one sends a compact JSON body for CRM systems: who, what, when, and
// adds a header naming the event type. It reads the event's fields with
// in.Get (the SDK's field reader: no decoding, no allocation) and writes its
// answer by appending the fields' raw JSON: in a sandboxed plugin that is
// many times faster than encoding/json. Its go.mod needs only the SDK. Build
// and try it (from the repository's root):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o crm.wasm ./examples/plugin
//	go run ./hub/cmd/hookhub plugin run --wasm crm.wasm --event examples/plugin/testdata/event.json
package main

import (
	"errors"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/field"
)

// Transform turns one event into the CRM's body. An event without an email
// is skipped: the CRM would have nothing to attach it to.
func Transform(in *abi.Input) (*abi.Output, error) {
	if len(in.Events) != 1 {
		return nil, errors.New("this plugin sends one event per request")
	}
	typ, email, at, source := in.Get("type"), in.Get("data.email"), in.Get("time"), in.Get("source")
	if email.Kind() != field.String || email.String() == "" {
		return &abi.Output{Skip: true}, nil
	}
	// Raw() is each field's JSON text as the event holds it: a valid JSON
	// string, copied with no re-encoding.
	b := make([]byte, 0, 128)
	b = append(b, `{"event":`...)
	b = appendJSON(b, typ)
	b = append(b, `,"email":`...)
	b = append(b, email.Raw()...)
	if at.Kind() == field.String {
		b = append(b, `,"at":`...)
		b = append(b, at.Raw()...)
	}
	b = append(b, `,"source":`...)
	b = appendJSON(b, source)
	b = append(b, '}')
	// The input's request is this call's own: change it and send it.
	req := in.Request
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	req.Headers["X-Event-Type"] = typ.String()
	req.ContentType, req.Body = "application/json", b
	return &abi.Output{Request: req}, nil
}

// appendJSON appends a string field as it is, and anything else (missing,
// a number) as the JSON string of its text.
func appendJSON(b []byte, v field.Value) []byte {
	if v.Kind() == field.String {
		return append(b, v.Raw()...)
	}
	return appendString(b, v.String())
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
