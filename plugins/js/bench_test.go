package js_test

import (
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
