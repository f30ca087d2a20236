package field_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/sdk/field"
)

const event = `{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated",
 "time":"2026-11-22T10:00:00Z","datacontenttype":"application/json","account":"acme","initiator":"api",
 "lists":"12,15","data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada","NAME":"L\u00f6w \"Ada\""},
 "score": -12.5e1, "count": 42, "vip": true, "optout": false, "phone": null,
 "items": [ {"sku":"a-1"}, {"sku":"b-2","qty":3} ], "nested": {"x": [[1,2],[3,{"y":"}]"}]]}}}`

func TestGet(t *testing.T) {
	for _, tc := range []struct {
		path string
		kind field.Kind
		str  string
		raw  string
	}{
		{"type", field.String, "contact.updated", `"contact.updated"`},
		{"data.email", field.String, "ada@example.com", `"ada@example.com"`},
		{"data.attributes.FIRSTNAME", field.String, "Ada", `"Ada"`},
		{"data.attributes.NAME", field.String, `Löw "Ada"`, `"L\u00f6w \"Ada\""`},
		{"data.score", field.Number, "-12.5e1", "-12.5e1"},
		{"data.count", field.Number, "42", "42"},
		{"data.vip", field.True, "true", "true"},
		{"data.optout", field.False, "false", "false"},
		{"data.phone", field.Null, "", "null"},
		{"data.items.1.sku", field.String, "b-2", `"b-2"`},
		{"data.items.1", field.Object, `{"sku":"b-2","qty":3}`, `{"sku":"b-2","qty":3}`},
		{"data.nested.x.1.1.y", field.String, "}]", `"}]"`},
		{"data.items.2", field.Missing, "", ""},
		{"data.missing", field.Missing, "", ""},
		{"data.email.x", field.Missing, "", ""},
		{"data.", field.Missing, "", ""}, // the key "" in data
		{"Type", field.Missing, "", ""},  // keys are matched exactly
	} {
		v := field.Get([]byte(event), tc.path)
		if v.Kind() != tc.kind || v.String() != tc.str || string(v.Raw()) != tc.raw || v.Exists() != (tc.kind != field.Missing) {
			t.Errorf("Get(%q) = %v %q raw %q; want %v %q raw %q", tc.path, v.Kind(), v.String(), v.Raw(), tc.kind, tc.str, tc.raw)
		}
	}
	if n := field.Get([]byte(event), "data.count").Int(); n != 42 {
		t.Errorf("data.count Int() = %d, want 42", n)
	}
	if n := field.Get([]byte(event), "data.score").Int(); n != -125 {
		t.Errorf("data.score Int() = %d, want -125", n)
	}
	if f := field.Get([]byte(event), "data.score").Float(); f != -125 {
		t.Errorf("data.score Float() = %v, want -125", f)
	}
	if !field.Get([]byte(event), "data.vip").Bool() || field.Get([]byte(event), "data.optout").Bool() {
		t.Error("Bool() wrong for data.vip or data.optout")
	}
	if got := string(field.Get([]byte(event), "data.attributes.NAME").AppendText([]byte("x:"))); got != `x:Löw "Ada"` {
		t.Errorf("AppendText = %q", got)
	}
}

// TestGetLastDuplicateWins: a repeated key reads as encoding/json reads it.
func TestGetLastDuplicateWins(t *testing.T) {
	doc := []byte(`{"a":1,"a":{"b":2},"\u0061":3}`)
	if got := field.Get(doc, "a").String(); got != "3" {
		t.Errorf(`Get("a") = %s, want 3 (the last "a", written escaped)`, got)
	}
}

// TestGetAllocatesNothing: reading a field, and its raw bytes, costs no allocation.
func TestGetAllocatesNothing(t *testing.T) {
	doc := []byte(event)
	var sink int
	n := testing.AllocsPerRun(100, func() {
		v := field.Get(doc, "data.nested.x.1.1.y")
		sink += len(v.Raw()) + int(field.Get(doc, "data.count").Int())
		sink += len(field.Get(doc, "data.attributes.NAME").AppendText(make([]byte, 0, 64)))
	})
	if n != 0 {
		t.Errorf("Get allocates %v times per run, want 0", n)
	}
	_ = sink
}

// TestGetInvalidNeverPanics: truncations of a document give an answer, never a panic.
func TestGetInvalidNeverPanics(t *testing.T) {
	for i := range len(event) {
		for _, p := range []string{"data.email", "data.items.1.sku", "data.nested.x.1.1.y", ""} {
			v := field.Get([]byte(event[:i]), p)
			_, _, _ = v.String(), v.Int(), v.Float()
		}
	}
}

// FuzzGet checks Get against encoding/json: on any valid document, for any
// path, the two agree on whether the value exists, its type, and its text.
func FuzzGet(f *testing.F) {
	f.Add([]byte(event), "data.items.1.sku")
	f.Add([]byte(`{"a":{"b":[1,"x\ud83d\ude00y",{"c":null}]}}`), "a.b.1")
	f.Add([]byte(`{"a\u002eb":1,"k":"\ud800x"}`), "k")
	f.Add([]byte(`[0,[1,[2]]]`), "1.1.0")
	f.Add([]byte(`{"a":"\xff\xfe"}`), "a")
	f.Fuzz(func(t *testing.T, doc []byte, path string) {
		got := field.Get(doc, path) // must not panic, valid or not
		_, _, _, _ = got.String(), got.Int(), got.Float(), got.AppendText(nil)
		if !json.Valid(doc) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		var root any
		if err := dec.Decode(&root); err != nil {
			t.Fatalf("json.Valid but Decode: %v", err)
		}
		want, ok := walk(root, path)
		if got.Exists() != ok {
			t.Fatalf("Get(%q).Exists() = %v, encoding/json finds it: %v", path, got.Exists(), ok)
		}
		if !ok {
			return
		}
		switch w := want.(type) {
		case nil:
			if got.Kind() != field.Null {
				t.Fatalf("Get(%q) kind %v, want null", path, got.Kind())
			}
		case bool:
			if got.Bool() != w || (got.Kind() != field.True && got.Kind() != field.False) {
				t.Fatalf("Get(%q) = %v, want %v", path, got.Kind(), w)
			}
		case json.Number:
			if got.Kind() != field.Number || got.String() != w.String() {
				t.Fatalf("Get(%q) = %v %q, want number %q", path, got.Kind(), got.String(), w)
			}
		case string:
			if got.Kind() != field.String || got.String() != w || string(got.AppendText(nil)) != w {
				t.Fatalf("Get(%q) = %v %q, want string %q", path, got.Kind(), got.String(), w)
			}
		case map[string]any, []any:
			var back any
			dec := json.NewDecoder(bytes.NewReader(got.Raw()))
			dec.UseNumber()
			if err := dec.Decode(&back); err != nil {
				t.Fatalf("Get(%q).Raw() = %q: %v", path, got.Raw(), err)
			}
			a, _ := json.Marshal(back)
			b, _ := json.Marshal(w)
			if !bytes.Equal(a, b) {
				t.Fatalf("Get(%q).Raw() = %s, want %s", path, a, b)
			}
		}
	})
}

// walk follows path through a value decoded by encoding/json, by Get's rules.
func walk(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for seg := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			if seg == "" || len(seg) > 9 || strings.Trim(seg, "0123456789") != "" {
				return nil, false
			}
			n, _ := strconv.Atoi(seg)
			if n >= len(x) {
				return nil, false
			}
			v = x[n]
		default:
			return nil, false
		}
	}
	return v, true
}

// FuzzDoc: a Doc answers every path exactly as Get does, on any bytes, also
// when it answers several paths from one index.
func FuzzDoc(f *testing.F) {
	f.Add([]byte(event), "data.items.1.sku", "type")
	f.Add([]byte(`{"a":1,"a":2,"b":{"a":3}}`), "a", "b.a")
	f.Add([]byte(`{"a\u0062":1,"ab":2}`), "ab", "a")
	f.Add([]byte(`[0,{"a":1}]`), "1.a", "0")
	f.Add([]byte(`{"a":1,`), "a", "")
	f.Add([]byte(` {"k": "v" } trailing`), "k", "x")
	f.Fuzz(func(t *testing.T, doc []byte, p1, p2 string) {
		var d field.Doc
		d.Reset(doc)
		for _, p := range []string{p1, p2, p1} {
			got, want := d.Get(p), field.Get(doc, p)
			if got.Kind() != want.Kind() || !bytes.Equal(got.Raw(), want.Raw()) {
				t.Fatalf("Doc.Get(%q) = %v %q, Get = %v %q", p, got.Kind(), got.Raw(), want.Kind(), want.Raw())
			}
		}
	})
}

// TestDocManyMembers: an object of more members than a Doc indexes is read
// whole, with the same answers.
func TestDocManyMembers(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"k3":"last"}`)
	var d field.Doc
	d.Reset([]byte(b.String()))
	for _, p := range []string{"k0", "k3", "k39", "k40"} {
		if got, want := d.Get(p), field.Get([]byte(b.String()), p); !bytes.Equal(got.Raw(), want.Raw()) {
			t.Errorf("%s: %q, want %q", p, got.Raw(), want.Raw())
		}
	}
	if got := d.Get("k3").String(); got != "last" {
		t.Errorf("k3 = %q, want the last duplicate", got)
	}
}
