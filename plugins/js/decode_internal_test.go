package js

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// TestDecodeJSONIsJSONParse: decodeJSON gives what JSON.parse gives
// (compared by JSON.stringify, which keeps the fields' order), and refuses
// what JSON.parse refuses.
func TestDecodeJSONIsJSONParse(t *testing.T) {
	vm := goja.New()
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	for _, doc := range []string{
		`{"type":"contact.updated","data":{"email":"ada@example.com","n":1,"f":1.5,"e":-2e3,"z":-0,"big":12345678901234567890}}`,
		` [ 1 , "two" , true , false , null , [] , {} , [[{"a":[1]}]] ] `,
		`{"b":1,"a":2,"10":3,"2":4,"__proto__":{"x":1}}`,
		`{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00","u":"héllo ☃"}`,
		`"just a string"`, `42`, `-0.5e-3`, `{"dup":1,"dup":2}`,
	} {
		want, err := parse(goja.Undefined(), vm.ToValue(doc))
		if err != nil {
			t.Fatalf("JSON.parse(%s): %v", doc, err)
		}
		got, err := decodeJSON(vm, []byte(doc))
		if err != nil {
			t.Errorf("decodeJSON(%s): %v", doc, err)
			continue
		}
		w, _ := stringify(goja.Undefined(), want)
		g, _ := stringify(goja.Undefined(), got)
		if g.String() != w.String() {
			t.Errorf("decodeJSON(%s) = %s, JSON.parse gives %s", doc, g, w)
		}
	}
	proto, _ := decodeJSON(vm, []byte(`{"__proto__":{"polluted":true}}`))
	if p := proto.ToObject(vm).Get("polluted"); p != nil && !goja.IsUndefined(p) {
		t.Error(`"__proto__" set the prototype; JSON.parse makes it an own field`)
	}
	for _, bad := range []string{``, `{`, `{"a":}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `+1`, `-`, `1e`, `tru`, `nul`, `"a`, "\"a\x01\"", `{"a" 1}`, `{a:1}`, `[1 2]`, `{} x`, `"\x"`, `NaN`} {
		if _, err := decodeJSON(vm, []byte(bad)); err == nil {
			t.Errorf("decodeJSON(%q) = ok, want an error", bad)
		}
		if _, err := parse(goja.Undefined(), vm.ToValue(bad)); err == nil {
			t.Errorf("JSON.parse(%q) = ok: the case is wrong", bad)
		}
	}
	deep := make([]byte, 0, 2*maxDepth+2)
	for range maxDepth + 1 {
		deep = append(deep, '[')
	}
	for range maxDepth + 1 {
		deep = append(deep, ']')
	}
	if _, err := decodeJSON(vm, deep); err != errTooDeep {
		t.Errorf("%d nested arrays: %v, want errTooDeep (handed to JSON.parse)", maxDepth+1, err)
	}
}

// BenchmarkPayload compares making the handler's payload from a 1 KiB body
// with decodeJSON and with goja's JSON.parse, side by side (the machine's
// load changes both alike):
//
//	go test -run '^$' -bench Payload -benchmem ./plugins/js/
func BenchmarkPayload(b *testing.B) {
	body := []byte(`{"type":"contact.updated","timestamp":"2026-11-22T10:00:00Z","account":"acme","initiator":"api","data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada","LASTNAME":"Lovelace","CITY":"London","SCORE":42,"TAGS":["vip","newsletter","beta"]},"notes":"` + strings.Repeat("x", 700) + `"}}`)
	vm := goja.New()
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeJSON(vm, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JSON.parse", func(b *testing.B) {
		parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(body) { // as the handler's argument was made before
				b.Fatal("not JSON")
			}
			if _, err := parse(goja.Undefined(), vm.ToValue(string(body))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
