// Package abi is the contract between the hookhub host and a WebAssembly
// transform plugin: the values that cross the boundary and their version.
//
// Both sides import it: the hub encodes an Input into guest memory and decodes
// the guest's Output; the guest SDK (package plugin) does the reverse. It uses
// only the standard library so any guest can import it. The wire encoding and
// the exports a module must provide are documented in sdk/README.md.
package abi

import "github.com/hookhub/hookhub/sdk/field"

// Version is the ABI version a module must declare (export hookhub_abi_version).
const Version = 1

// ModuleVersion is the release of the sdk module this is: its major version
// is always Version (see "Versions" in sdk/README.md). Releases are tagged
// sdk/vX.Y.Z.
const ModuleVersion = "v1.1.0"

// URLExport is the export (a function with no parameters and no results,
// never called) by which a module says it reads Input.URL, added in ABI 1.1.
// The host writes the trailing URL field only into the input of a module
// that exports it, so a module built for ABI 1.0 keeps getting the 1.0
// encoding.
const URLExport = "hookhub_abi_url"

// Input is what the host hands the guest for one call. It is the call's
// own: a plugin may change it (its request's maps too) and send its
// Request. It is valid during the call: the Go SDK decodes the next call's
// input into the same Input (InputDecoder), so a plugin keeps nothing of it
// past its call, bytes included (Events, Config and Body alias the input
// buffer the host writes each call into).
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
	// URL is the webhook's target URL (without user info), added in ABI 1.1:
	// the host sends it only to a module that exports hookhub_abi_url (the
	// Go SDK does), and it is empty for older modules, which the host hands
	// the 1.0 encoding byte for byte.
	URL string

	first field.Doc // Events[0], indexed by Get
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
	// URL, when set (ABI 1.1), replaces the webhook's URL for this request:
	// a path with an optional query ("/v2/contacts?x=1"), or an absolute URL
	// with the webhook's own scheme and host. The host refuses any other
	// (a plugin never redirects a delivery to another host). Query is
	// applied after it.
	URL string
}
