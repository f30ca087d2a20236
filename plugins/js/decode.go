package js

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// maxDepth bounds the nesting decodeJSON follows (a deeper document goes to
// JSON.parse, which is slower but the same).
const maxDepth = 512

var errNotJSON = errors.New("not JSON")

// decodeJSON makes the JavaScript value of a JSON document in one pass, what
// JSON.parse gives (fields in order; "__proto__" an own field), about five
// times faster: goja's JSON.parse reads through encoding/json's Decoder.Token,
// which allocates per token. A document that is not JSON is errNotJSON.
func decodeJSON(vm *goja.Runtime, b []byte) (goja.Value, error) {
	d := jsonDecoder{vm: vm, b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.space(); d.i != len(b) {
		return nil, errNotJSON
	}
	return v, nil
}

type jsonDecoder struct {
	vm *goja.Runtime
	b  []byte
	i  int
}

func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (goja.Value, error) {
	d.space()
	if d.i >= len(d.b) {
		return nil, errNotJSON
	}
	switch c := d.b[d.i]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, errTooDeep
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, errTooDeep
		}
		return d.array(depth + 1)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.vm.ToValue(s), nil
	case c == 't':
		return d.literal("true", d.vm.ToValue(true))
	case c == 'f':
		return d.literal("false", d.vm.ToValue(false))
	case c == 'n':
		return d.literal("null", goja.Null())
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, errNotJSON
}

var errTooDeep = errors.New("nested too deep")

func (d *jsonDecoder) literal(word string, v goja.Value) (goja.Value, error) {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return nil, errNotJSON
	}
	d.i += len(word)
	return v, nil
}

func (d *jsonDecoder) object(depth int) (goja.Value, error) {
	o := d.vm.NewObject()
	d.i++ // {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return o, nil
	}
	for {
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, errNotJSON
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, errNotJSON
		}
		d.i++
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		// CreateDataProperty, as JSON.parse does: "__proto__" stays a field.
		if err := o.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) {
			return nil, errNotJSON
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return o, nil
		default:
			return nil, errNotJSON
		}
	}
}

func (d *jsonDecoder) array(depth int) (goja.Value, error) {
	d.i++ // [
	d.space()
	var vals []any
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return d.vm.NewArray(), nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, errNotJSON
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return d.vm.NewArray(vals...), nil
		default:
			return nil, errNotJSON
		}
	}
}

// str reads a string at d.i (its opening quote). One without escapes that
// is valid UTF-8 is copied; any other is unquoted by encoding/json (invalid
// UTF-8 and lone surrogates become U+FFFD, as in JSON.parse here).
func (d *jsonDecoder) str() (string, error) {
	start := d.i
	d.i++
	plain := true
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			raw := d.b[start:d.i]
			if plain && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", errNotJSON
			}
			return s, nil
		case c == '\\':
			plain = false
			d.i += 2
		case c < 0x20:
			return "", errNotJSON
		default:
			d.i++
		}
	}
	return "", errNotJSON
}

// number reads a number with JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number() (goja.Value, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case digits() == 0:
		return nil, errNotJSON
	}
	integer := true
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		integer = false
		if digits() == 0 {
			return nil, errNotJSON
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		integer = false
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, errNotJSON
		}
	}
	text := string(d.b[start:d.i])
	if integer && len(text) < 16 {
		n, _ := strconv.ParseInt(text, 10, 64)
		if n != 0 || text[0] != '-' { // -0 stays a float
			return d.vm.ToValue(n), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, errNotJSON
	}
	return d.vm.ToValue(f), nil
}
