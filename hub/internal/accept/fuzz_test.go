package accept

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/sdk/event"
)

// FuzzCheck: no event, however hostile, panics the router's checks (the
// envelope, then the data against its type's schema).
func FuzzCheck(f *testing.F) {
	set, err := schemacheck.Default()
	if err != nil {
		f.Fatal(err)
	}
	types, err := eventtypes.New(&config.Config{}, set)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := event.Parse(b)
		if err != nil {
			return
		}
		_ = CheckData(types, ev)
	})
}

// FuzzCheckedDataDecodes: data that envelope.Parse's fast path took on
// trust decodes as schemacheck.Decode decodes it.
func FuzzCheckedDataDecodes(f *testing.F) {
	for _, s := range []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"acme","initiator":"api","lists":"1,2","time":"2026-11-22T10:00:00.5+01:00","data":{"email":"a@b.c"}}`,
		`{"SPECVERSION":"1.0","Id":"e1","source":"s","type":"contact.updated","account":"acme","id":null,"time":null,"data":{}}`,
		`{"specversion":"1.0","id":"e1","id":"e2","source":"s","type":"a.b","account":"x","data":{"k":[1,2,{"z":null}]},"extra":[1]}`,
		`{"specversion":"1.0","id":5,"source":"s","type":"a.b","account":"x"}`,
		`{"specversion":"1.0","id":"e\u0031","source":"s","type":"a.b","account":"x"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","time":"yesterday"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","data":null}`,
		`{"ſource":"s"}`, `[]`, `null`, `{"a":`, ``,
		// deeper than encoding/json's limit of 10,000
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"x","data":{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, checked, err := envelope.Parse(b)
		if err != nil || !checked || len(got.Data) == 0 {
			return
		}
		doc, err := decodeData(got.Data, true)
		wantDoc, wantErr := schemacheck.Decode(got.Data)
		if err != nil || wantErr != nil || !reflect.DeepEqual(doc, wantDoc) {
			t.Fatalf("%q: data decoded on trust %#v (%v), schemacheck.Decode %#v (%v)", b, doc, err, wantDoc, wantErr)
		}
	})
}

// FuzzDecodeDataMatches: the router's decoding of data gives the document
// schemacheck.Decode gives, or fails where it fails.
func FuzzDecodeDataMatches(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.c","n":1.50,"big":123456789012345678901234567890,"neg":-0e+1,"ok":true,"no":false,"nil":null,"l":[1,"x",{"y":[]}],"dup":1,"dup":2}`,
		`{"s":"caf\u00e9 \ud83d\ude00 \n"}`, `{}`, `[]`, `"x"`, `1`, `{"a":`, `{"a":1} {"b":2}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantErr := schemacheck.Decode(b)
		got, gotErr := decodeData(b, false)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: decodeData error %v, schemacheck.Decode error %v", b, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ndecodeData         %#v\nschemacheck.Decode %#v", b, got, want)
		}
	})
}

func BenchmarkDecodeData(b *testing.B) {
	data := []byte(`{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada","PLAN":"pro","SCORE":42},"list_ids":[12,15],"note":"` + strings.Repeat("x", 900) + `"}`)
	b.Run("router", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = decodeData(data, true)
		}
	})
	b.Run("schemacheck.Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = schemacheck.Decode(data)
		}
	})
}
