package envelope

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/sdk/event"
)

// FuzzParseMatchesEvent: the one-pass Parse gives the answer
// event.Parse gives, for any input: the same event, or an error (worded by
// event.Parse) for the same inputs.
func FuzzParseMatchesEvent(f *testing.F) {
	for _, s := range []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"acme","initiator":"api","lists":"1,2","time":"2026-11-22T10:00:00.5+01:00","data":{"email":"a@b.c"}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.subscribed","account":"acme","initiator":"system","via":"import","data":{"email":"a@b.c"}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","via":"import","Via":"api"}`,
		`{"SPECVERSION":"1.0","Id":"e1","source":"s","type":"contact.updated","account":"acme","id":null,"time":null,"data":{}}`,
		`{"specversion":"1.0","id":"e1","id":"e2","source":"s","type":"a.b","account":"x","data":{"k":[1,2,{"z":null}]},"extra":[1]}`,
		`{"specversion":"1.0","id":5,"source":"s","type":"a.b","account":"x"}`,
		`{"specversion":"1.0","id":"e\u0031","source":"s","type":"a.b","account":"x"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","time":"yesterday"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","data":null}`,
		// one reading: exact names, each member once
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"b","Account":"a"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","data":{},"Data":{"x":1}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","x":1,"x":2}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","typ\u0065":"c.d","account":"a"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","ſource":"t"}`,
		`{"ſource":"s"}`, `[]`, `null`, `{"a":`, ``,
		// deeper than encoding/json's limit of 10,000
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","data":{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantErr := event.Parse(b)
		got, _, gotErr := Parse(b)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("%q: parse error %v, event.Parse error %v", b, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nparse       %+v\nevent.Parse %+v", b, got, want)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	raw := []byte(`{"specversion":"1.0","id":"evt_1","source":"bench","type":"contact.updated","account":"acme","initiator":"api","time":"2026-11-22T10:00:00Z","data":{"email":"ada@example.com","note":"` + strings.Repeat("x", 900) + `"}}`)
	b.Run("router", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = Parse(raw)
		}
	})
	b.Run("event.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = event.Parse(raw)
		}
	})
}
