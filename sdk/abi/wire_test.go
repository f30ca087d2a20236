package abi_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/hookhub/hookhub/sdk/abi"
)

func sampleInput() *abi.Input {
	return &abi.Input{
		Webhook: "wh_crm", Config: []byte(`{"root":"contact"}`),
		Events: [][]byte{[]byte(`{"specversion":"1.0","id":"e1","type":"contact.updated"}`), []byte(`{"id":"e2"}`)},
		Request: abi.Request{ContentType: "application/json", Headers: map[string]string{"X-A": "1", "X-B": "2"},
			Query: map[string]string{"q": "v"}, Body: []byte(`{"type":"contact.updated"}`)},
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleInput()
	got, err := abi.DecodeInput(abi.AppendInput(nil, in))
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("input round trip: %v\n got %+v\nwant %+v", err, got, in)
	}
	out := &abi.Output{Request: in.Request}
	gotOut, err := abi.DecodeOutput(abi.AppendOutput(nil, out, nil))
	if err != nil || !reflect.DeepEqual(gotOut, out) {
		t.Fatalf("output round trip: %v %+v", err, gotOut)
	}
	skip, err := abi.DecodeOutput(abi.AppendOutput(nil, &abi.Output{Skip: true}, nil))
	if err != nil || !skip.Skip {
		t.Fatalf("skip: %v %+v", err, skip)
	}
	_, err = abi.DecodeOutput(abi.AppendOutput(nil, nil, errors.New("no email in data")))
	var ge *abi.GuestError
	if !errors.As(err, &ge) || ge.Msg != "no email in data" {
		t.Fatalf("guest error: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	good := abi.AppendInput(nil, sampleInput())
	cases := map[string][]byte{
		"empty":        nil,
		"bad magic":    append([]byte("XXXX"), good[4:]...),
		"truncated":    good[:len(good)-3],
		"trailing":     append(append([]byte{}, good...), 0),
		"huge length":  append([]byte("HHI1"), 0xff, 0xff, 0xff, 0xff),
		"huge count":   append(append([]byte("HHI1"), 0, 0, 0, 0, 0, 0, 0, 0), 0xff, 0xff, 0xff, 0x7f),
		"output kind":  []byte("HHO1\x09"),
		"output short": []byte("HHO1\x00\x05\x00"),
	}
	for name, b := range cases {
		var err error
		if strings.HasPrefix(name, "output") {
			_, err = abi.DecodeOutput(b)
		} else {
			_, err = abi.DecodeInput(b)
		}
		if !errors.Is(err, abi.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzDecodeInput(f *testing.F) {
	f.Add(abi.AppendInput(nil, sampleInput()))
	f.Add([]byte("HHI1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := abi.DecodeInput(b)
		if err != nil {
			return
		}
		again, err := abi.DecodeInput(abi.AppendInput(nil, in))
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(in)) {
			t.Fatalf("re-encoding an accepted input changed it: %v", err)
		}
	})
}

// FuzzInputDecoder: an InputDecoder that decoded one input decodes the next
// exactly as DecodeInput does, accepting and refusing the same bytes.
func FuzzInputDecoder(f *testing.F) {
	a := abi.AppendInput(nil, sampleInput())
	f.Add(a, a)
	f.Add(a, []byte("HHI1"))
	b := sampleInput()
	b.Request.Headers = map[string]string{"X-A": "2"}
	f.Add(a, abi.AppendInput(nil, b))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var x abi.InputDecoder
		_, _ = x.Decode(first)
		want, werr := abi.DecodeInput(second)
		got, gerr := x.Decode(second)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("DecodeInput: %v, the decoder after another input: %v", werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("the decoder after another input gave\n%+v\nDecodeInput gave\n%+v", got, want)
		}
	})
}

func FuzzDecodeOutput(f *testing.F) {
	f.Add(abi.AppendOutput(nil, &abi.Output{Request: sampleInput().Request}, nil))
	f.Add(abi.AppendOutput(nil, &abi.Output{Skip: true}, nil))
	f.Add(abi.AppendOutput(nil, nil, errors.New("x")))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = abi.DecodeOutput(b) })
}

// normalize makes empty and nil slices and maps compare equal.
func normalize(in *abi.Input) *abi.Input {
	c := *in
	if len(c.Config) == 0 {
		c.Config = nil
	}
	if len(c.Request.Body) == 0 {
		c.Request.Body = nil
	}
	if len(c.Request.Headers) == 0 {
		c.Request.Headers = nil
	}
	if len(c.Request.Query) == 0 {
		c.Request.Query = nil
	}
	for i, e := range c.Events {
		if len(e) == 0 {
			c.Events[i] = nil
		}
	}
	return &c
}

// TestURLTrailingField: ABI 1.1's URL is a trailing field written only when
// set, so an input or output without it is the 1.0 encoding byte for byte
// (what a module built for 1.0 decodes), and a 1.0 encoding decodes with no
// URL.
func TestURLTrailingField(t *testing.T) {
	in := sampleInput()
	v10 := abi.AppendInput(nil, in)
	in.URL = "https://crm.example/hooks/contacts?k=1"
	v11 := abi.AppendInput(nil, in)
	if string(v11[:len(v10)]) != string(v10) || string(v11[len(v10)+4:]) != in.URL {
		t.Fatalf("1.1 input is not the 1.0 input then the URL:\n1.0 %q\n1.1 %q", v10, v11)
	}
	got, err := abi.DecodeInput(v11)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("1.1 input round trip: %v\n got %+v\nwant %+v", err, got, in)
	}
	old, err := abi.DecodeInput(v10)
	if err != nil || old.URL != "" {
		t.Fatalf("1.0 input: %v, URL %q; want no error and no URL", err, old.URL)
	}
	// The 1.0 encoding, written out by hand: it must never change.
	want := "HHI1\x02\x00\x00\x00wh\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00{}"
	if got := abi.AppendInput(nil, &abi.Input{Webhook: "wh", Request: abi.Request{Body: []byte("{}")}}); string(got) != want {
		t.Errorf("1.0 input without a URL = %q, want %q", got, want)
	}

	out := &abi.Output{Request: abi.Request{Body: []byte("{}")}}
	o10 := abi.AppendOutput(nil, out, nil)
	if want := "HHO1\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00{}"; string(o10) != want {
		t.Errorf("output without a URL = %q, want the 1.0 encoding %q", o10, want)
	}
	out.URL = "/v2/contacts?x=1"
	gotOut, err := abi.DecodeOutput(abi.AppendOutput(nil, out, nil))
	if err != nil || !reflect.DeepEqual(gotOut, out) {
		t.Fatalf("output with a URL: %v %+v", err, gotOut)
	}
	if _, err := abi.DecodeOutput(append(abi.AppendOutput(nil, out, nil), 'x')); !errors.Is(err, abi.ErrMalformed) {
		t.Errorf("a byte after the URL: %v, want ErrMalformed", err)
	}
}

// TestInputDecoderReuses decodes a run of inputs into one InputDecoder and
// checks each against a fresh DecodeInput: the same input whatever came
// before it, even when the plugin changed the last one's maps (a
// plugin's additions must not reach the next call), and an unchanged map
// or string is the last one itself, not a copy.
func TestInputDecoderReuses(t *testing.T) {
	a := sampleInput()
	b := sampleInput()
	b.Webhook, b.Request.ContentType = "wh_other", "application/x-www-form-urlencoded"
	b.Request.Headers = map[string]string{"X-A": "changed", "X-C": "3"}
	b.Request.Query = nil
	none := &abi.Input{Webhook: "wh_crm"}
	withURL := sampleInput()
	withURL.URL = "https://example.com/hook"
	var x abi.InputDecoder
	for i, want := range []*abi.Input{a, a, b, none, a, withURL, withURL, b, a} {
		enc := abi.AppendInput(nil, want)
		fresh, err := abi.DecodeInput(enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.Decode(enc)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, fresh) {
			t.Fatalf("input %d: reused decode\n got %+v\nwant %+v", i, got, fresh)
		}
		// What a plugin may do to its input, which the next decode undoes.
		if h := got.Request.Headers; h != nil && i%2 == 0 {
			h["X-Added"] = "by the plugin"
		} else if h != nil {
			h["X-A"] = "overwritten"
		}
		got.Events = append(got.Events, []byte("appended"))
		got.Webhook = "renamed"
	}
	first, _ := x.Decode(abi.AppendInput(nil, a))
	h, name := first.Request.Headers, first.Webhook
	again, _ := x.Decode(abi.AppendInput(nil, a))
	if reflect.ValueOf(again.Request.Headers).UnsafePointer() != reflect.ValueOf(h).UnsafePointer() ||
		unsafe.StringData(again.Webhook) != unsafe.StringData(name) {
		t.Error("an unchanged input's map and strings were copied, not reused")
	}
	if _, err := x.Decode([]byte("junk")); !errors.Is(err, abi.ErrMalformed) {
		t.Errorf("malformed input: %v", err)
	}
	if got, err := x.Decode(abi.AppendInput(nil, b)); err != nil || !reflect.DeepEqual(got.Request.Headers, b.Request.Headers) {
		t.Errorf("after a malformed input: %v %+v", err, got)
	}
}

func TestOutputDecoderReuses(t *testing.T) {
	send := func(ct string, h map[string]string) *abi.Output {
		return &abi.Output{Request: abi.Request{ContentType: ct, Headers: h,
			Query: map[string]string{"q": "v"}, Body: []byte(`{"a":1}`)}}
	}
	a := send("application/json", map[string]string{"X-A": "1", "X-B": "2"})
	b := send("text/plain", map[string]string{"X-A": "changed", "X-C": "3"})
	c := send("application/json", nil)
	skip := &abi.Output{Skip: true}
	var x abi.OutputDecoder
	for i, want := range []*abi.Output{a, a, b, skip, a, c, c, b, a} {
		enc := abi.AppendOutput(nil, want, nil)
		fresh, err := abi.DecodeOutput(enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.Decode(enc)
		if err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, fresh) {
			t.Fatalf("output %d: reused decode\n got %+v\nwant %+v", i, got, fresh)
		}
		// The caller owns each output: what it does to one reaches no other.
		if got.Request.Headers != nil {
			got.Request.Headers["X-Added"] = "by the caller"
		}
	}
	first, _ := x.Decode(abi.AppendOutput(nil, a, nil))
	again, _ := x.Decode(abi.AppendOutput(nil, a, nil))
	if reflect.ValueOf(again.Request.Headers).UnsafePointer() == reflect.ValueOf(first.Request.Headers).UnsafePointer() {
		t.Error("two outputs share a map")
	}
	if unsafe.StringData(again.Request.ContentType) != unsafe.StringData(first.Request.ContentType) ||
		unsafe.StringData(again.Request.Headers["X-B"]) != unsafe.StringData(first.Request.Headers["X-B"]) {
		t.Error("an unchanged answer's strings were copied, not reused")
	}
	if _, err := x.Decode(abi.AppendOutput(nil, nil, errors.New("the guest's own"))); err == nil || !strings.Contains(err.Error(), "the guest's own") {
		t.Errorf("a guest error: %v", err)
	}
	if _, err := x.Decode([]byte("junk")); !errors.Is(err, abi.ErrMalformed) {
		t.Errorf("malformed output: %v", err)
	}
	if got, err := x.Decode(abi.AppendOutput(nil, b, nil)); err != nil || !reflect.DeepEqual(got.Request.Headers, b.Request.Headers) {
		t.Errorf("after a malformed output: %v %+v", err, got)
	}
}
