package js_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/plugins/js"
)

// BenchmarkTransform is the engine natively (the hub runs it only in wasm;
// see BenchmarkJSPlugin in hub/internal/pluginhost for that).
//
//	go test -run '^$' -bench Transform -benchmem ./plugins/js/
func BenchmarkTransform(b *testing.B) {
	e := js.NewEngine()
	in := input("wh1", `function handler(w) { var d = w.payload.data; d.mail = d.email; delete d.email; w.headers['x-event-type'] = w.eventType; return w; }`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Transform(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransform1KiB is BenchmarkTransform on a 1 KiB body, the size the
// issue's targets are for.
//
//	go test -run '^$' -bench Transform1KiB -benchmem ./plugins/js/
func BenchmarkTransform1KiB(b *testing.B) {
	bench1KiB(b, `function handler(w) { var d = w.payload.data; d.mail = d.email; delete d.email; w.headers['x-event-type'] = w.eventType; return w; }`)
}

// BenchmarkTemplate1KiB is the handler `hookhub plugin new --lang js`
// writes (sdk/js/template/handler.js) on the 1 KiB body: it reads two
// fields of the payload and replaces it with a small one.
//
//	go test -run '^$' -bench Template1KiB -benchmem ./plugins/js/
func BenchmarkTemplate1KiB(b *testing.B) {
	script, err := os.ReadFile("../../sdk/js/template/handler.js")
	if err != nil {
		b.Fatal(err)
	}
	bench1KiB(b, string(script))
}

// bench1KiB times script's calls on a 1 KiB body.
func bench1KiB(b *testing.B, script string) {
	e := js.NewEngine()
	in := input("wh1", script)
	in.URL = "https://crm.example/hooks"
	in.Request.Body = []byte(`{"type":"contact.updated","timestamp":"2026-11-22T10:00:00Z","account":"acme","initiator":"api","data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada","LASTNAME":"Lovelace","CITY":"London","SCORE":42,"TAGS":["vip","newsletter","beta"]},"notes":"` + strings.Repeat("x", 700) + `"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Transform(in); err != nil {
			b.Fatal(err)
		}
	}
}
