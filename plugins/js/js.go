// Package js is the js plugin: a webhook's config holds a JavaScript script
// whose handler(webhook) function gets the request about to be sent,
// {eventType, payload, url, headers}, and returns it changed, or null to skip
// the event (README.md is the contract).
//
// The engine is QuickJS (quickjs-ng) with the C plugin kit, built to
// WebAssembly by quickjs/build.sh (clang and wasi-libc) into js.wasm, which
// is committed and embedded here: the hub runs it in its sandbox like any
// module, never natively, and needs no toolchain for it.
package js

import _ "embed"

// ConfigSchema is the JSON Schema of the plugin's config.
//
//go:embed config.schema.json
var ConfigSchema []byte

// Engine is the engine's WebAssembly module (js.wasm, built by
// quickjs/build.sh from engine.c and QuickJS's source; the hub's
// TestJSEngineIsItsSource holds it to that build).
//
//go:embed js.wasm
var Engine []byte
