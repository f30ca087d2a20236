package js

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// maxEncodeDepth bounds the nesting encodeJSON follows before it hands the
// value to JSON.stringify (which also finds cycles).
const maxEncodeDepth = 64

// encodeJSON appends what JSON.stringify(v) gives for the plain data a
// handler returns (objects and arrays of strings, numbers, booleans and
// null), several times faster than goja's stringify, which quotes a string
// rune by rune. ok is false, with dst unspecified, for anything else (an
// object with toJSON, a Date, a wrapper object, a string that may hold a
// lone surrogate, nesting past maxEncodeDepth): the caller then uses goja's
// JSON.stringify, which handles them all.
//
// A getter that throws panics out of goja's Get: marshal recovers from it
// and leaves the value to JSON.stringify, which reports it.
func encodeJSON(dst []byte, v goja.Value, depth int) ([]byte, bool) {
	switch {
	case v == nil || goja.IsUndefined(v):
		return dst, false
	case goja.IsNull(v):
		return append(dst, "null"...), true
	}
	o, isObj := v.(*goja.Object)
	if isObj {
		return encodeObject(dst, o, depth)
	}
	switch x := v.Export().(type) {
	case string:
		if strings.ContainsRune(x, utf8.RuneError) {
			return dst, false // perhaps a lone surrogate, which stringify escapes
		}
		return appendQuoted(dst, x), true
	case bool:
		if x {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case int64, float64:
		s := v.String() // JavaScript's Number::toString, as stringify uses
		if s == "NaN" || s == "Infinity" || s == "-Infinity" {
			return append(dst, "null"...), true
		}
		return append(dst, s...), true
	}
	return dst, false
}

func encodeObject(dst []byte, o *goja.Object, depth int) ([]byte, bool) {
	if depth >= maxEncodeDepth {
		return dst, false
	}
	switch o.ClassName() {
	case "Object":
		if tj := o.Get("toJSON"); tj != nil && !goja.IsUndefined(tj) {
			return dst, false
		}
		dst = append(dst, '{')
		first := true
		for _, k := range o.Keys() {
			fv := o.Get(k)
			if fv == nil || goja.IsUndefined(fv) {
				continue
			}
			if _, fn := goja.AssertFunction(fv); fn {
				continue // stringify leaves out functions
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if strings.ContainsRune(k, utf8.RuneError) {
				return dst, false
			}
			dst = append(appendQuoted(dst, k), ':')
			var ok bool
			if dst, ok = encodeJSON(dst, fv, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case "Array":
		if tj := o.Get("toJSON"); tj != nil && !goja.IsUndefined(tj) {
			return dst, false
		}
		n := o.Get("length").ToInteger()
		dst = append(dst, '[')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			ev := o.Get(strconv.FormatInt(i, 10))
			if ev == nil || goja.IsUndefined(ev) {
				dst = append(dst, "null"...)
				continue
			}
			if _, fn := goja.AssertFunction(ev); fn {
				dst = append(dst, "null"...)
				continue
			}
			var ok bool
			if dst, ok = encodeJSON(dst, ev, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// appendQuoted quotes s as JSON.stringify does: escapes for the quote, the
// backslash and control characters, and nothing else.
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// marshal is JSON.stringify(po): encodeJSON when it can, else goja's.
func marshal(po *goja.Object) (b []byte, err error) {
	if b, ok := tryEncode(po); ok {
		return b, nil
	}
	return po.MarshalJSON()
}

func tryEncode(po *goja.Object) (b []byte, ok bool) {
	defer func() {
		if recover() != nil {
			b, ok = nil, false
		}
	}()
	return encodeJSON(make([]byte, 0, 1024), po, 0)
}
