// Package field reads one value out of a JSON document by its path, without
// decoding the document: it scans the bytes once, allocates nothing, and
// returns a small Value that points into them. In a plugin it is the fast way
// to read an event's fields (encoding/json's reflection costs several times
// more inside WebAssembly):
//
//	email := field.Get(event, "data.email")
//	if !email.Exists() { ... }
//	b = append(b, email.Raw()...) // already a valid JSON string: no re-encoding
//
// A path is keys separated by dots; a segment of digits indexes an array
// ("data.items.0.sku"). Keys are matched exactly, as encoding/json does for a
// map; when an object repeats a key, the last one wins, as in encoding/json.
// A key that itself holds a dot cannot be named (use encoding/json for it).
// On a document that is not valid JSON the result is unspecified, but Get
// never panics; check the document once with json.Valid if it comes from
// somewhere untrusted (the hub hands plugins only events it has parsed).
package field

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The kinds of a Value. Missing is the zero Kind: the path names nothing.
const (
	Missing Kind = iota
	Null
	False
	True
	Number
	String
	Object
	Array
)

var kindNames = [...]string{"missing", "null", "false", "true", "number", "string", "object", "array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one JSON value found by Get: its kind and its raw bytes, a view
// into the document (valid while the document is, and not to be modified).
type Value struct {
	raw  []byte
	kind Kind
}

// Get returns the value at path in the JSON document doc. An empty path is
// the whole document.
func Get(doc []byte, path string) Value {
	i := skipSpace(doc, 0)
	if path == "" {
		return valueAt(doc, i)
	}
	return getFrom(doc, i, path)
}

// getFrom is Get on the value at doc[i].
func getFrom(doc []byte, i int, path string) Value {
	for {
		seg, rest, more := strings.Cut(path, ".")
		if i >= len(doc) {
			return Value{}
		}
		switch doc[i] {
		case '{':
			i = findKey(doc, i, seg)
		case '[':
			i = findIndex(doc, i, seg)
		default:
			return Value{}
		}
		if i < 0 {
			return Value{}
		}
		if !more {
			return valueAt(doc, i)
		}
		path = rest
	}
}

// Exists reports whether the path named a value (JSON null included).
func (v Value) Exists() bool { return v.kind != Missing }

// Kind is the value's JSON type.
func (v Value) Kind() Kind { return v.kind }

// Raw is the value's JSON text as it stands in the document (a string with
// its quotes and escapes), or nil when it does not exist. Appending it to a
// JSON document being built copies the value with no re-encoding.
func (v Value) Raw() []byte { return v.raw }

// String is a string's text, unescaped; for a number, true or false, its
// JSON text; for an object or array, its raw JSON; "" for null or a missing
// value. Invalid UTF-8 and lone surrogates become U+FFFD, as encoding/json does.
func (v Value) String() string {
	switch v.kind {
	case String:
		body := v.raw[1 : len(v.raw)-1]
		if plain(body) {
			return string(body)
		}
		return string(unescape(make([]byte, 0, len(body)), body))
	case Null, Missing:
		return ""
	}
	return string(v.raw)
}

// AppendText appends what String returns to dst, allocating only when dst
// must grow.
func (v Value) AppendText(dst []byte) []byte {
	switch v.kind {
	case String:
		body := v.raw[1 : len(v.raw)-1]
		if plain(body) {
			return append(dst, body...)
		}
		return unescape(dst, body)
	case Null, Missing:
		return dst
	}
	return append(dst, v.raw...)
}

// Int is a number's value as an int64: a fraction is truncated, and a number
// out of range saturates. 0 for anything but a number.
func (v Value) Int() int64 {
	if v.kind != Number {
		return 0
	}
	if n, err := strconv.ParseInt(bstr(v.raw), 10, 64); err == nil {
		return n
	}
	f, _ := strconv.ParseFloat(bstr(v.raw), 64)
	switch {
	case f >= 9.223372036854775807e18:
		return 1<<63 - 1
	case f <= -9.223372036854775808e18:
		return -1 << 63
	}
	return int64(f)
}

// Float is a number's value as a float64 (0 for anything but a number).
func (v Value) Float() float64 {
	if v.kind != Number {
		return 0
	}
	f, _ := strconv.ParseFloat(bstr(v.raw), 64)
	return f
}

// Bool reports whether the value is JSON true.
func (v Value) Bool() bool { return v.kind == True }

// bstr converts for the strconv calls above, which the compiler does without
// a copy because the string does not escape.
func bstr(b []byte) string { return string(b) }

// valueAt returns the value starting at doc[i].
func valueAt(doc []byte, i int) Value {
	if i >= len(doc) {
		return Value{}
	}
	end := skipValue(doc, i)
	if end < 0 {
		return Value{}
	}
	var k Kind
	switch c := doc[i]; {
	case c == '{':
		k = Object
	case c == '[':
		k = Array
	case c == '"':
		k = String
	case c == 't':
		k = True
	case c == 'f':
		k = False
	case c == 'n':
		k = Null
	case c == '-' || (c >= '0' && c <= '9'):
		k = Number
	default:
		return Value{}
	}
	return Value{raw: doc[i:end], kind: k}
}

// findKey returns where the value of the last member key of the object at
// doc[i] starts, or -1.
func findKey(doc []byte, i int, key string) int {
	found := -1
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return -1
	}
	for i < len(doc) {
		if doc[i] != '"' {
			return -1
		}
		end := skipString(doc, i)
		if end < 0 {
			return -1
		}
		match := keyEqual(doc[i+1:end-1], key)
		i = skipSpace(doc, end)
		if i >= len(doc) || doc[i] != ':' {
			return -1
		}
		i = skipSpace(doc, i+1)
		if match {
			found = i
		}
		i = skipValue(doc, i)
		if i < 0 {
			return -1
		}
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return -1
		}
		if doc[i] == '}' {
			return found
		}
		if doc[i] != ',' {
			return -1
		}
		i = skipSpace(doc, i+1)
	}
	return -1
}

// findIndex returns where element seg (decimal digits) of the array at
// doc[i] starts, or -1.
func findIndex(doc []byte, i int, seg string) int {
	if seg == "" || len(seg) > 9 {
		return -1
	}
	n := 0
	for j := 0; j < len(seg); j++ {
		c := seg[j]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == ']' {
		return -1
	}
	for i < len(doc) {
		if n == 0 {
			return i
		}
		n--
		i = skipValue(doc, i)
		if i < 0 {
			return -1
		}
		i = skipSpace(doc, i)
		if i >= len(doc) || doc[i] != ',' {
			return -1
		}
		i = skipSpace(doc, i+1)
	}
	return -1
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at doc[i] (a
// quote), or -1.
func skipString(doc []byte, i int) int {
	for i++; ; {
		q := bytes.IndexByte(doc[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		// The quote ends the string unless an odd number of backslashes escapes it.
		n := 0
		for j := i - 1; doc[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
		i++
	}
}

// skipValue returns the index just past the value starting at doc[i], or -1.
// Objects and arrays are skipped by counting brackets outside strings.
func skipValue(doc []byte, i int) int {
	if i >= len(doc) {
		return -1
	}
	switch doc[i] {
	case '"':
		return skipString(doc, i)
	case '{', '[':
		depth := 0
		for ; i < len(doc); i++ {
			switch doc[i] {
			case '"':
				i = skipString(doc, i)
				if i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	// A literal or a number: up to the next delimiter.
	j := i
	for j < len(doc) {
		switch doc[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// plain reports whether a string's body needs no unescaping or UTF-8 repair.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return utf8.Valid(b) && !hasBackslash(b)
		}
	}
	return true
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// keyEqual reports whether a raw key (between its quotes) is key once unescaped.
func keyEqual(raw []byte, key string) bool {
	// Most keys differ from the one sought in their first byte: when it is
	// plain (ASCII, no escape), that settles it without the scan below.
	if len(raw) > 0 && len(key) > 0 && raw[0] != key[0] && raw[0] < utf8.RuneSelf && raw[0] != '\\' {
		return false
	}
	if plain(raw) {
		return string(raw) == key
	}
	var buf [256]byte
	u := unescape(buf[:0], raw)
	return string(u) == key
}

// unescape appends the text of a JSON string body, as encoding/json decodes it.
func unescape(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b):
			i++
			switch b[i] {
			case '"', '\\', '/':
				dst = append(dst, b[i])
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, n := hex4(b, i+1)
				if n == 0 {
					return dst // invalid JSON: stop
				}
				i += n
				if utf16.IsSurrogate(r) {
					r2, n2 := rune(-1), 0
					if i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						r2, n2 = hex4(b, i+3)
					}
					if dec := utf16.DecodeRune(r, r2); n2 != 0 && dec != utf8.RuneError {
						r = dec
						i += 2 + n2
					} else {
						r = utf8.RuneError
					}
				}
				dst = utf8.AppendRune(dst, r)
			default:
				return dst
			}
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, b[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

// hex4 reads the four hex digits at b[i:], returning the rune and 4, or 0, 0.
func hex4(b []byte, i int) (rune, int) {
	if i+4 > len(b) {
		return 0, 0
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, 0
		}
		r = r<<4 | rune(c)
	}
	return r, 4
}

// maxIndexed bounds the top-level members a Doc indexes; an object with more
// is read whole by each Get.
const maxIndexed = 24

// Doc is a JSON document whose top level is read once: its first Get
// indexes the top-level object's members, and each Get after it finds its
// first segment in the index instead of reading the whole object again (the
// last of duplicate keys still wins). A plugin that reads several fields of
// an event reads the event about once. A document that is not an object,
// or has more than 24 members, is read whole by each Get, as Get does; the
// results are Get's in every case. A Doc allocates nothing and is not safe
// for concurrent use. The zero Doc is an empty document.
type Doc struct {
	doc     []byte
	state   uint8 // docFresh, docIndexed or docWhole
	n       int
	members [maxIndexed]member
}

type member struct {
	key []byte // between its quotes, as written
	at  int    // where its value starts
}

const (
	docFresh = iota
	docIndexed
	docWhole
)

// Reset makes d the document doc.
func (d *Doc) Reset(doc []byte) {
	d.doc, d.state, d.n = doc, docFresh, 0
}

// Bytes is the document.
func (d *Doc) Bytes() []byte { return d.doc }

// Get is Get(d.Bytes(), path).
func (d *Doc) Get(path string) Value {
	if d.state == docFresh {
		d.index()
	}
	if path == "" || d.state != docIndexed {
		return Get(d.doc, path)
	}
	seg, rest, more := strings.Cut(path, ".")
	for j := d.n - 1; j >= 0; j-- {
		if keyEqual(d.members[j].key, seg) {
			if !more {
				return valueAt(d.doc, d.members[j].at)
			}
			return getFrom(d.doc, d.members[j].at, rest)
		}
	}
	return Value{}
}

// index reads the top-level object's members as findKey does, or leaves
// the document to be read whole. The two loops are the same on purpose: one
// helper for a member, called by both, made Get 8-25 % slower in a
// WebAssembly guest (the call per member), where this reader is for speed.
func (d *Doc) index() {
	d.state = docWhole
	doc := d.doc
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		d.state = docIndexed // no members
		return
	}
	for n := 0; i < len(doc); n++ {
		if doc[i] != '"' || n == maxIndexed {
			return
		}
		end := skipString(doc, i)
		if end < 0 {
			return
		}
		key := doc[i+1 : end-1]
		i = skipSpace(doc, end)
		if i >= len(doc) || doc[i] != ':' {
			return
		}
		i = skipSpace(doc, i+1)
		d.members[n] = member{key: key, at: i}
		i = skipValue(doc, i)
		if i < 0 {
			return
		}
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return
		}
		switch doc[i] {
		case '}':
			d.n, d.state = n+1, docIndexed
			return
		case ',':
			i = skipSpace(doc, i+1)
		default:
			return
		}
	}
}
