// Package plugins is the first-party set of transform plugins, built into the
// hub and run natively (they are hub code). Each also builds to WebAssembly
// from its wasm folder, for the conformance suite or to run it sandboxed.
package plugins

import (
	"github.com/hookhub/hookhub/plugins/brevo"
	"github.com/hookhub/hookhub/plugins/form"
	"github.com/hookhub/hookhub/plugins/getresponse"
	"github.com/hookhub/hookhub/plugins/mapper"
	"github.com/hookhub/hookhub/plugins/passthrough"
	"github.com/hookhub/hookhub/plugins/slack"
	"github.com/hookhub/hookhub/sdk/abi"
)

// Plugin is one first-party plugin.
type Plugin struct {
	Transform    func(*abi.Input) (*abi.Output, error)
	ConfigSchema []byte
	// OneEvent says the plugin sends one event per request and fails on a
	// batch: a webhook with a batch setting cannot use it.
	OneEvent bool
}

// FirstParty maps each first-party plugin's name (what a webhook's
// plugin.name says) to the plugin. Its wasm build is ./plugins/<name>/wasm.
var FirstParty = map[string]Plugin{
	"form":        {Transform: form.Transform, ConfigSchema: form.ConfigSchema, OneEvent: true},
	"brevo":       {brevo.Transform, brevo.ConfigSchema, false},
	"getresponse": {getresponse.Transform, getresponse.ConfigSchema, false},
	"slack":       {slack.Transform, slack.ConfigSchema, false},
	"mapper":      {mapper.Transform, mapper.ConfigSchema, false},
	"passthrough": {passthrough.Transform, nil, false},
}

// Sandboxed lists the first-party plugins that never run natively, only in
// the WebAssembly sandbox: js runs customers' scripts. Its module is
// embedded (plugins/js.Engine, QuickJS built to WebAssembly); task plugins
// copies it to bin/plugins.
var Sandboxed = []string{"js"}
