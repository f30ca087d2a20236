// Package js is the js plugin: a webhook's config holds a JavaScript script
// whose handler(webhook) function gets the request about to be sent,
// {eventType, payload, url, headers}, and returns it changed, or null to skip the
// event. The script runs in goja, a JavaScript engine written in Go; the hub
// runs this package only inside its WebAssembly sandbox (./wasm, built for
// wasip1), never natively, so a script gets the same time and memory limits
// as any other module, and no file system, network or clock.
//
// A script is compiled once per instance and reused (Engine caches the
// compiled program by its text); each webhook gets its own JavaScript
// runtime, so one webhook's script never sees another's globals.
package js

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/field"
)

// ConfigSchema is the JSON Schema of the plugin's config.
//
//go:embed config.schema.json
var ConfigSchema []byte

// MaxCached bounds the compiled scripts, and the runtimes, an Engine keeps.
const MaxCached = 64

// Config is the plugin's config.
type Config struct {
	Script string `json:"script"`
}

// Engine runs scripts, caching their compiled programs and one runtime per
// webhook and script. It is not safe for concurrent use (a WebAssembly
// instance runs one call at a time).
type Engine struct {
	scripts  map[string]string // config → its script
	programs map[string]*goja.Program
	runtimes map[runtimeKey]*goja.Runtime
}

type runtimeKey struct{ webhook, script string }

// NewEngine returns an empty engine.
func NewEngine() *Engine {
	return &Engine{scripts: map[string]string{}, programs: map[string]*goja.Program{}, runtimes: map[runtimeKey]*goja.Runtime{}}
}

// ScriptError is an error in a script, at its line and column.
type ScriptError struct {
	Line, Column int
	Msg          string
}

func (e *ScriptError) Error() string {
	if e.Line == 0 {
		return "script: " + e.Msg
	}
	return fmt.Sprintf("script:%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Compile compiles a script (or returns it from the cache) and checks it
// defines handler. A syntax error is a *ScriptError at its line and column.
func (e *Engine) Compile(script string) (*goja.Program, error) {
	if p, ok := e.programs[script]; ok {
		return p, nil
	}
	ast, err := parser.ParseFile(nil, "script", script, 0)
	if err != nil {
		return nil, syntaxError(err)
	}
	p, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, syntaxError(err)
	}
	if len(e.programs) >= MaxCached {
		clear(e.programs)
	}
	e.programs[script] = p
	return p, nil
}

func syntaxError(err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		first := list[0]
		return &ScriptError{Line: first.Position.Line, Column: first.Position.Column, Msg: "SyntaxError: " + first.Message}
	}
	var se *goja.CompilerSyntaxError
	if errors.As(err, &se) && se.File != nil {
		pos := se.File.Position(se.Offset)
		return &ScriptError{Line: pos.Line, Column: pos.Column, Msg: "SyntaxError: " + se.Message}
	}
	return &ScriptError{Msg: err.Error()}
}

// runtime returns the webhook's runtime for script, with the script run
// (so handler defined) once.
func (e *Engine) runtime(webhook, script string) (*goja.Runtime, goja.Callable, error) {
	key := runtimeKey{webhook, script}
	vm := e.runtimes[key]
	if vm == nil {
		p, err := e.Compile(script)
		if err != nil {
			return nil, nil, err
		}
		vm = goja.New()
		vm.SetFieldNameMapper(goja.TagFieldNameMapper("json", true))
		if _, err := vm.RunProgram(p); err != nil {
			return nil, nil, runtimeError(err)
		}
		if len(e.runtimes) >= MaxCached {
			clear(e.runtimes)
		}
		e.runtimes[key] = vm
	}
	h, ok := goja.AssertFunction(vm.Get("handler"))
	if !ok {
		return nil, nil, &ScriptError{Msg: "defines no function handler(webhook)"}
	}
	return vm, h, nil
}

func runtimeError(err error) error {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		msg := ex.Value().String()
		for _, f := range ex.Stack() {
			if f.SrcName() == "script" {
				pos := f.Position()
				return &ScriptError{Line: pos.Line, Column: pos.Column, Msg: msg}
			}
		}
		return &ScriptError{Msg: msg}
	}
	return &ScriptError{Msg: err.Error()}
}

// Check compiles the script of a config, so a webhook with a bad script is
// refused when it is created: the error names the line and column.
func (e *Engine) Check(config []byte) error {
	c, err := parseConfig(config)
	if err != nil {
		return err
	}
	_, err = e.Compile(c.Script)
	return err
}

func parseConfig(config []byte) (Config, error) {
	var c Config
	if len(config) == 0 {
		return c, errors.New("config: script is required")
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return c, fmt.Errorf("config: not a JSON object: %w", err)
	}
	if strings.TrimSpace(c.Script) == "" {
		return c, errors.New("config: script is required")
	}
	return c, nil
}

// Transform runs the webhook's script on one input. With no events it only
// compiles the script: that is how the hub checks a config.
func (e *Engine) Transform(in *abi.Input) (*abi.Output, error) {
	script, ok := e.scripts[string(in.Config)]
	if !ok {
		c, err := parseConfig(in.Config)
		if err != nil {
			return nil, err
		}
		if len(e.scripts) >= MaxCached {
			clear(e.scripts)
		}
		script = c.Script
		e.scripts[string(in.Config)] = script
	}
	c := Config{Script: script}
	if len(in.Events) == 0 {
		if _, err := e.Compile(c.Script); err != nil {
			return nil, err
		}
		return &abi.Output{Skip: true}, nil
	}
	vm, handler, err := e.runtime(in.Webhook, c.Script)
	if err != nil {
		return nil, err
	}
	arg, err := webhookValue(vm, in)
	if err != nil {
		return nil, err
	}
	res, err := handler(goja.Undefined(), arg)
	if err != nil {
		return nil, runtimeError(err)
	}
	return output(vm, in, res)
}

// webhookValue is the handler's argument: the event's type, the body so far
// (parsed when it is JSON, else a string), the webhook's URL and the
// headers.
func webhookValue(vm *goja.Runtime, in *abi.Input) (goja.Value, error) {
	var eventType string
	if t := field.Get(in.Events[0], "type"); t.Kind() == field.String {
		eventType = t.String()
	}
	payload, err := decodeJSON(vm, in.Request.Body)
	switch {
	case errors.Is(err, errTooDeep):
		// JSON.parse keeps the fields' order, as the receiver would see it.
		parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
		if payload, err = parse(goja.Undefined(), vm.ToValue(string(in.Request.Body))); err != nil {
			return nil, runtimeError(err)
		}
	case err != nil:
		payload = vm.ToValue(string(in.Request.Body))
	}
	headers := vm.NewObject()
	for k, v := range in.Request.Headers {
		_ = headers.Set(k, v)
	}
	o := vm.NewObject()
	_ = o.Set("eventType", eventType)
	_ = o.Set("payload", payload)
	_ = o.Set("url", in.URL)
	_ = o.Set("headers", headers)
	return o, nil
}

// output reads the handler's answer: null or undefined skips; an object
// gives the body (payload: JSON, or a string as is), the headers, and the
// URL when the handler changed it (the hub accepts only a new path and
// query on the webhook's own scheme and host).
func output(vm *goja.Runtime, in *abi.Input, res goja.Value) (*abi.Output, error) {
	if goja.IsNull(res) || goja.IsUndefined(res) {
		return &abi.Output{Skip: true}, nil
	}
	obj, ok := res.(*goja.Object)
	if !ok || obj.ClassName() != "Object" {
		return nil, &ScriptError{Msg: fmt.Sprintf("handler returned %s, want the webhook object or null", res.String())}
	}
	req := abi.Request{ContentType: in.Request.ContentType}
	payload := obj.Get("payload")
	switch {
	case payload == nil || goja.IsUndefined(payload):
		req.Body = in.Request.Body
	default:
		po, ok := payload.(*goja.Object)
		if !ok {
			req.Body = []byte(payload.String()) // a string (or number) as is
			break
		}
		b, err := marshal(po)
		if err != nil {
			return nil, &ScriptError{Msg: "payload cannot be turned into JSON: " + err.Error()}
		}
		req.Body = b
	}
	if h := obj.Get("headers"); h != nil && !goja.IsUndefined(h) && !goja.IsNull(h) {
		ho := h.ToObject(vm)
		req.Headers = map[string]string{}
		for _, k := range ho.Keys() {
			v := ho.Get(k)
			if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
				continue
			}
			req.Headers[k] = v.String()
		}
	}
	req.Query = in.Request.Query
	out := &abi.Output{Request: req}
	if u := obj.Get("url"); u != nil && !goja.IsUndefined(u) && !goja.IsNull(u) {
		if _, ok := u.Export().(string); !ok {
			return nil, &ScriptError{Msg: fmt.Sprintf("handler returned url %s, want a string", u.String())}
		}
		if s := u.String(); s != in.URL {
			out.URL = s
		}
	}
	return out, nil
}
