// Package abi is the contract between the hookhub host and a WebAssembly
// transform plugin: the values that cross the boundary and their version.
//
// Both sides import it: the hub encodes an Input into guest memory and decodes
// the guest's Output; the guest SDK (package plugin) does the reverse. It uses
// only the standard library so any guest can import it. The wire encoding and
// the exports a module must provide are documented in sdk/README.md.
package abi

// Version is the ABI version a module must declare (export hookhub_abi_version).
const Version = 1

// ModuleVersion is the release of the sdk module this is: its major version
// is always Version (see "Versions" in sdk/README.md). Releases are tagged
// sdk/vX.Y.Z.
const ModuleVersion = "v1.0.0"

// Input is what the host hands the guest for one call.
type Input struct {
	// Webhook is the id of the webhook being delivered to.
	Webhook string
	// Config is the webhook's plugin config, as JSON (empty when none is set).
	Config []byte
	// Events holds the CloudEvents JSON of the event being delivered; a
	// batching webhook hands more than one.
	Events [][]byte
	// Request is the request built so far (by default a Standard Webhooks body).
	Request Request
}

// Request is an outgoing HTTP request, short of its URL host and signature.
type Request struct {
	ContentType string
	// Headers to add to the request. Names are case-insensitive; the host
	// refuses webhook-id, webhook-timestamp, webhook-signature and hop-by-hop
	// headers.
	Headers map[string]string
	// Query parameters to add to the webhook's URL.
	Query map[string]string
	Body  []byte
}

// Output is the guest's answer to one call.
type Output struct {
	// Skip drops the event(s) for this webhook: a payload filter. Nothing is sent.
	Skip bool
	// Request is the request to send when Skip is false.
	Request Request
}
