package field_test

import (
	"encoding/json"
	"testing"

	"github.com/hookhub/hookhub/sdk/field"
)

// The lead's figure (native; in a WebAssembly guest the gap is wider):
//
//	cd sdk && go test ./field/ -run '^$' -bench . -benchmem -count 5
//
// Both read the four fields examples/plugin reads from a 1 KiB event.
var benchEvent = []byte(`{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated",` +
	`"time":"2026-11-22T10:00:00Z","datacontenttype":"application/json","account":"acme","initiator":"api","lists":"12,15",` +
	`"data":{"attributes":{"FIRSTNAME":"Ada","LASTNAME":"Lovelace","COMPANY":"Analytical Engines Ltd","CITY":"London",` +
	`"NOTES":"` + pad(600) + `"},"tags":["vip","newsletter","beta"],"score":42,"email":"ada@example.com"}}`)

func pad(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return string(b)
}

func BenchmarkFieldGet(b *testing.B) {
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, p := range []string{"type", "data.email", "time", "source"} {
			n += len(field.Get(benchEvent, p).Raw())
		}
	}
	_ = n
}

// BenchmarkDocGet reads the same four fields through a Doc, as abi.Input's
// Get does: the top level is read once, not four times.
func BenchmarkDocGet(b *testing.B) {
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	n := 0
	var d field.Doc
	for b.Loop() {
		d.Reset(benchEvent)
		for _, p := range []string{"type", "data.email", "time", "source"} {
			n += len(d.Get(p).Raw())
		}
	}
	_ = n
}

func BenchmarkEncodingJSON(b *testing.B) {
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var e struct {
			Type, Time, Source string
			Data               struct{ Email string }
		}
		if err := json.Unmarshal(benchEvent, &e); err != nil {
			b.Fatal(err)
		}
		n += len(e.Type) + len(e.Data.Email) + len(e.Time) + len(e.Source)
	}
	_ = n
}
