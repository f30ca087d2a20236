// Package plugin is the guest side of a hookhub transform plugin in Go: a
// plugin is a plain function from abi.Input to abi.Output, tested with go
// test on the host, and registered with Handle in the main package that is
// built to WebAssembly:
//
//	// main.go
//	package main
//
//	func init() { plugin.Handle(mytransform.Transform) }
//	func main() {}
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o my.wasm .
//
// The exports the host calls (hookhub_abi_version, hookhub_alloc,
// hookhub_transform, hookhub_config_schema) are in plugin_wasip1.go; sdk/README.md
// documents them for any language.
package plugin

import (
	"errors"
	"strconv"

	"github.com/hookhub/hookhub/sdk/abi"
)

// Func transforms one call's input into the request to send, a skip, or an
// error (which fails the delivery with the error's text as its reason).
type Func func(in *abi.Input) (*abi.Output, error)

var (
	handler      Func
	configSchema []byte
)

// Handle registers the plugin's function. Call it from an init function.
func Handle(f Func) { handler = f }

// HandleWithSchema registers the function and the JSON Schema of the
// plugin's config, which the hub checks every webhook's config against.
func HandleWithSchema(f Func, schema []byte) { handler, configSchema = f, schema }

// Skip drops the event for this webhook: nothing is sent.
func Skip() (*abi.Output, error) { return &abi.Output{Skip: true}, nil }

// Send answers with the request to send.
func Send(req abi.Request) (*abi.Output, error) { return &abi.Output{Request: req}, nil }

// Call runs f on an encoded input and returns the encoded output. A panic in
// f becomes an error, so bad input never traps the module.
func Call(f Func, input []byte) []byte {
	in, err := abi.DecodeInput(input)
	return run(f, in, err, nil)
}

// A module's calls, one at a time: each input is decoded into the same
// abi.Input and each output encoded into the same buffer, which the host
// has read before it makes the next call. So a call allocates only what
// the plugin's function does.
var (
	decoder abi.InputDecoder
	outBuf  []byte
)

// callReusing is Call for the module's exports.
func callReusing(f Func, input []byte) []byte {
	in, err := decoder.Decode(input)
	outBuf = run(f, in, err, outBuf[:0])
	return outBuf
}

// run runs f on in (or answers err) and appends the output to dst.
func run(f Func, in *abi.Input, err error, dst []byte) (encoded []byte) {
	if err != nil {
		return abi.AppendOutput(dst, nil, err)
	}
	defer func() {
		if r := recover(); r != nil {
			encoded = abi.AppendOutput(dst[:0], nil, errors.New("plugin panicked: "+panicText(r)))
		}
	}()
	if f == nil {
		return abi.AppendOutput(dst, nil, errors.New("plugin registered no function (call plugin.Handle in init)"))
	}
	out, err := f(in)
	return abi.AppendOutput(dst, out, err)
}

// panicText is a recovered panic value as text, as fmt's %v writes the
// usual ones: errors, Stringers, strings, numbers and booleans (this
// package does not link fmt: see abi.ErrMalformed). An Error or String
// method that panics itself (a nil receiver) gives "<nil>", as with fmt.
func panicText(r any) (text string) {
	defer func() {
		if recover() != nil {
			text = "<nil>"
		}
	}()
	switch v := r.(type) {
	case error:
		return v.Error()
	case interface{ String() string }:
		return v.String()
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int8:
		return strconv.FormatInt(int64(v), 10)
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "a value of a type without an Error or String method"
}
