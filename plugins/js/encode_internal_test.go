package js

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// TestEncodeJSONIsJSONStringify: for what a handler returns, marshal gives
// JSON.stringify's text byte for byte, through encodeJSON for plain data and
// through goja's stringify for the rest (toJSON, Dates, wrappers, lone
// surrogates, cycles and throwing getters still fail as stringify does).
func TestEncodeJSONIsJSONStringify(t *testing.T) {
	vm := goja.New()
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	for _, expr := range []string{
		`({type: "contact.updated", data: {email: "ada@example.com", n: 1, f: 1.5, big: 1e21, small: 1e-7, neg: -0, nan: NaN, inf: -Infinity}})`,
		`({s: "quote \" back \\ nl \n cr \r tab \t bs \b ff \f nul \u0000 us \u001f del \u007f é ☃ 😀 <>& \u2028"})`,
		`({b: 1, a: 2, 10: 3, 2: 4, u: undefined, f: function () {}, n: null, t: true, x: false})`,
		`[1, "two", undefined, function () {}, null, [], {}, [[{"a": [1]}]], , 5]`,
		`(function () { var o = {}; o["__proto__"] = 1; Object.defineProperty(o, "hidden", {value: 1, enumerable: false}); o.shown = 2; return o })()`,
		`({d: new Date(0), w: new String("x"), j: {toJSON: function () { return "J" }}})`,
		`({lone: "\ud800", rep: "\ufffd"})`,
		`(function () { var a = [1]; a.extra = 2; return a })()`,
		`({deep: ` + strings.Repeat(`{"a":`, 80) + `1` + strings.Repeat(`}`, 80) + `})`,
		`Object.create({inherited: 1}, {own: {value: 2, enumerable: true}})`,
	} {
		v, err := vm.RunString(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		want, err := stringify(goja.Undefined(), v)
		if err != nil {
			t.Fatalf("JSON.stringify(%s): %v", expr, err)
		}
		got, err := marshal(v.(*goja.Object))
		if err != nil || string(got) != want.String() {
			t.Errorf("marshal(%s)\n = %s, %v\nwant %s", expr, got, err, want)
		}
	}
	for _, expr := range []string{
		`(function () { var o = {}; o.self = o; return o })()`,
		`({get boom() { throw new Error("getter") }})`,
		`({n: 10n})`,
	} {
		v, err := vm.RunString(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got, err := marshal(v.(*goja.Object)); err == nil {
			t.Errorf("marshal(%s) = %s, want the error JSON.stringify gives", expr, got)
		}
	}
	plain, _ := vm.RunString(`({a: [1, "x", true, null, {b: 2.5}]})`)
	if _, ok := tryEncode(plain.(*goja.Object)); !ok {
		t.Error("plain data went to goja's stringify, not encodeJSON")
	}
}
