package envelope

import (
	"reflect"
	"testing"

	"github.com/hookhub/hookhub/sdk/event"
)

// FuzzDecodeMatchesEvent: the one-pass Decode, which the API reads posted
// events with, gives the answer event.Decode gives, for any input: the same
// event, or an error (worded by event.Decode) for the same inputs; and an
// event left without the attributes a publisher may leave out is read too.
func FuzzDecodeMatchesEvent(f *testing.F) {
	for _, s := range []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"acme","initiator":"api","time":"2026-11-22T10:00:00.5+01:00","data":{"email":"a@b.c"}}`,
		`{"source":"s","type":"contact.updated","account":"acme","data":{"email":"a@b.c"}}`,
		`{"type":"contact.updated","account":"acme"}`,
		`{"source":"s","type":"a.b","account":"b","Account":"a"}`,
		`{"source":"s","type":"a.b","account":"a","x":1,"x":2}`,
		`{"source":"s","id":"e1","id":"e2","type":"a.b","account":"a"}`,
		`{"source":"s","type":"a.b","account":"a","ſource":"t"}`,
		`{"id":5,"source":"s","type":"a.b","account":"x"}`,
		`{"source":"s","type":"a.b","account":"x","time":"yesterday"}`,
		`{"source":"s","type":"a.b","account":"x","data":null}`,
		`{"source":"s","type":"a.b","account":"x","data":"text"}`,
		`[]`, `null`, `{"a":`, ``, "{\"id\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantErr := event.Decode(b)
		got, gotErr := Decode(b)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("%q: decode error %v, event.Decode error %v", b, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ndecode       %+v\nevent.Decode %+v", b, got, want)
		}
	})
}

// TestDecodeTakesFastPath: an event posted without the attributes the API
// fills in (id, time, specversion) is read by the one pass, not handed to
// encoding/json.
func TestDecodeTakesFastPath(t *testing.T) {
	b := []byte(`{"source":"s","type":"contact.updated","account":"acme","data":{"email":"a@b.c"}}`)
	if _, ok := parseFast(b, true); !ok {
		t.Errorf("%s: not read by the fast path", b)
	}
}
