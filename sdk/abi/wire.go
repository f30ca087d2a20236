package abi

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
)

// The wire format, version 1. All integers are unsigned 32-bit little endian;
// a string or byte field is its length then its bytes; a map is its count
// then key, value pairs (sorted by key when the host writes them).
//
//	Input:  "HHI1" webhook config u32(n) n×event request [url]
//	Output: "HHO1" kind(u8) then, by kind: 0 send: request [url]; 1 skip:
//	        nothing; 2 error: message
//	request: content_type headers(map) query(map) body
//
// [url] is a trailing string added in ABI 1.1, written only when it is not
// empty, so an input or output without it is the 1.0 encoding byte for byte;
// a decoder reads it when bytes remain. Later minor versions add fields the
// same way: optional, trailing, written only when set.
const (
	inputMagic  = "HHI1"
	outputMagic = "HHO1"

	kindSend  = 0
	kindSkip  = 1
	kindError = 2
)

// Limits of what a decoder accepts.
const (
	MaxEvents = 10000
	MaxFields = 1000
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("abi: malformed")

// malformed is ErrMalformed with where and why. (No fmt in this package,
// nor in sdk/plugin: a Go plugin that links fmt is 0.65 MB larger, which
// every load of it pays.)
type malformed string

func (m malformed) Error() string { return ErrMalformed.Error() + ": " + string(m) }
func (m malformed) Unwrap() error { return ErrMalformed }

// GuestError is an error the plugin itself returned.
type GuestError struct{ Msg string }

func (e *GuestError) Error() string { return e.Msg }

// AppendInput encodes in after dst.
func AppendInput(dst []byte, in *Input) []byte {
	dst = append(dst, inputMagic...)
	dst = appendBytes(dst, []byte(in.Webhook))
	dst = appendBytes(dst, in.Config)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(in.Events)))
	for _, e := range in.Events {
		dst = appendBytes(dst, e)
	}
	dst = appendRequest(dst, &in.Request)
	if in.URL != "" {
		dst = appendBytes(dst, []byte(in.URL))
	}
	return dst
}

// AppendOutput encodes out, or err when it is not nil, after dst.
func AppendOutput(dst []byte, out *Output, err error) []byte {
	dst = append(dst, outputMagic...)
	switch {
	case err != nil:
		dst = append(dst, kindError)
		return appendBytes(dst, []byte(err.Error()))
	case out == nil || out.Skip:
		return append(dst, kindSkip)
	default:
		dst = append(dst, kindSend)
		dst = appendRequest(dst, &out.Request)
		if out.URL != "" {
			dst = appendBytes(dst, []byte(out.URL))
		}
		return dst
	}
}

// DecodeInput decodes an Input. Byte slices in it alias b.
func DecodeInput(b []byte) (*Input, error) {
	in := &Input{}
	if err := in.decode(b, nil); err != nil {
		return nil, err
	}
	return in, nil
}

// InputDecoder decodes inputs one after the other into the same Input,
// reusing what the last one left: its events slice, its header and query
// maps, and every string equal to the one it replaces (a webhook's name,
// content type and headers repeat from call to call). Decoding a plugin's
// usual input then allocates nothing. What Decode returns is valid until the
// next Decode, as a plugin's input is valid during its call: the Go SDK
// decodes each call this way. Not safe for concurrent use.
type InputDecoder struct {
	in      Input
	headers map[string]string
	query   map[string]string
}

// Decode decodes b, as DecodeInput does. Byte slices in the input alias b.
func (x *InputDecoder) Decode(b []byte) (*Input, error) {
	in := &x.in
	events := in.Events[:0]
	// What the last call's plugin did with its input's maps (added to
	// them, or kept them) does not reach this one: each is refilled.
	*in = Input{Webhook: in.Webhook, URL: in.URL, Events: events,
		Request: Request{ContentType: in.Request.ContentType, Headers: x.headers, Query: x.query}}
	if err := in.decode(b, x); err != nil {
		return nil, err
	}
	return in, nil
}

// decode decodes b into in; with x, in holds the last input's strings and
// maps to reuse.
func (in *Input) decode(b []byte, x *InputDecoder) error {
	d := decoder{b: b}
	if !d.magic(inputMagic) {
		return d.fail("input does not start with " + inputMagic)
	}
	in.Webhook = d.string(in.Webhook)
	in.Config = d.bytes()
	n := d.count(MaxEvents)
	if d.err == nil && n > 0 {
		if cap(in.Events) < n {
			in.Events = make([][]byte, 0, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			in.Events = append(in.Events, d.bytes())
		}
	} else {
		in.Events = nil
	}
	d.request(&in.Request)
	if x != nil {
		// Kept whether or not this input has any, for the next one.
		if in.Request.Headers != nil {
			x.headers = in.Request.Headers
		}
		if in.Request.Query != nil {
			x.query = in.Request.Query
		}
	}
	in.URL = d.optString(in.URL)
	if d.err == nil && d.off != len(b) {
		return d.fail(strconv.Itoa(len(b)-d.off) + " bytes after the input")
	}
	return d.err
}

// DecodeOutput decodes a guest's answer: an Output, or the guest's error as a
// *GuestError. Byte slices in the output alias b.
func DecodeOutput(b []byte) (*Output, error) { return decodeOutput(b, nil) }

// OutputDecoder decodes one guest's answers one after another, as
// DecodeOutput does, keeping the strings of the last: a header's or query
// field's name or value, or the content type, equal to the last answer's at
// the same place is that string, not a new copy. A guest answers much the
// same each call, so the host allocates little for an answer. Each Output is
// its own (its maps are new; its byte slices alias b); the zero value is
// ready to use; one decoder serves one caller at a time.
type OutputDecoder struct {
	last, cur []string
}

// Decode decodes b, as DecodeOutput does.
func (x *OutputDecoder) Decode(b []byte) (*Output, error) {
	x.cur = x.cur[:0]
	out, err := decodeOutput(b, x)
	x.last, x.cur = x.cur, x.last
	return out, err
}

func decodeOutput(b []byte, keep *OutputDecoder) (*Output, error) {
	d := decoder{b: b, keep: keep}
	if !d.magic(outputMagic) {
		return nil, d.fail("output does not start with " + outputMagic)
	}
	kind := d.u8()
	out := &Output{}
	switch {
	case d.err != nil:
	case kind == kindSkip:
		out.Skip = true
	case kind == kindError:
		msg := d.bytes()
		if d.err == nil {
			return nil, &GuestError{Msg: string(msg)}
		}
	case kind == kindSend:
		d.request(&out.Request)
		out.URL = d.optString("")
	default:
		d.fail("unknown output kind " + strconv.Itoa(int(kind)))
	}
	if d.err == nil && d.off != len(b) {
		return nil, d.fail(strconv.Itoa(len(b)-d.off) + " bytes after the output")
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func appendMap(dst []byte, m map[string]string) []byte {
	keys := make([]string, 0, 16) // on the stack for the usual few fields
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(keys)))
	for _, k := range keys {
		dst = appendBytes(dst, []byte(k))
		dst = appendBytes(dst, []byte(m[k]))
	}
	return dst
}

func appendRequest(dst []byte, r *Request) []byte {
	dst = appendBytes(dst, []byte(r.ContentType))
	dst = appendMap(dst, r.Headers)
	dst = appendMap(dst, r.Query)
	return appendBytes(dst, r.Body)
}

type decoder struct {
	b    []byte
	off  int
	err  error
	keep *OutputDecoder // the last answer's strings, or nil
}

// text is b as a string: with keep, the last answer's string at the same
// place when it has the same bytes (the comparison allocates nothing).
func (d *decoder) text(b []byte) string {
	x := d.keep
	if x == nil {
		return string(b)
	}
	i := len(x.cur)
	var s string
	if i < len(x.last) && x.last[i] == string(b) {
		s = x.last[i]
	} else {
		s = string(b)
	}
	x.cur = append(x.cur, s)
	return s
}

// string reads a string field: old itself when it has the same bytes (the
// comparison allocates nothing).
func (d *decoder) string(old string) string {
	b := d.bytes()
	if string(b) == old {
		return old
	}
	return string(b)
}

func (d *decoder) fail(why string) error {
	if d.err == nil {
		d.err = malformed(why + " (at byte " + strconv.Itoa(d.off) + ")")
	}
	return d.err
}

func (d *decoder) magic(m string) bool {
	if len(d.b) < len(m) || string(d.b[:len(m)]) != m {
		return false
	}
	d.off = len(m)
	return true
}

func (d *decoder) u8() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) u32() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 4 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *decoder) bytes() []byte {
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(d.b)-d.off) {
		d.fail("a field of " + strconv.FormatUint(uint64(n), 10) + " bytes runs past the end")
		return nil
	}
	v := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return v
}

// optString reads a trailing optional string: "" when no bytes remain, and
// old itself when it has the same bytes, as string does.
func (d *decoder) optString(old string) string {
	if d.err != nil || d.off == len(d.b) {
		return ""
	}
	return d.string(old)
}

func (d *decoder) count(limit int) int {
	n := d.u32()
	if d.err == nil && n > uint32(limit) {
		d.fail("count " + strconv.FormatUint(uint64(n), 10) + " is over the limit of " + strconv.Itoa(limit))
		return 0
	}
	return int(n)
}

// strmap reads a map; nil when it is empty. A non-nil old is the last
// input's map (InputDecoder): one with the same fields is kept as it is
// (lookups, no allocation), and any other is cleared and refilled.
func (d *decoder) strmap(old map[string]string) map[string]string {
	n := d.count(MaxFields)
	if d.err != nil || n == 0 {
		if old != nil {
			clear(old)
		}
		return nil
	}
	if old == nil {
		m := make(map[string]string, n)
		for i := 0; i < n && d.err == nil; i++ {
			k := d.bytes()
			v := d.bytes()
			m[d.text(k)] = d.text(v)
		}
		return m
	}
	// The same fields as old? Then old stands as it is.
	start, same := d.off, len(old) == n
	for i := 0; i < n && d.err == nil && same; i++ {
		k := d.bytes()
		v := d.bytes()
		ov, ok := old[string(k)]
		same = ok && ov == string(v)
	}
	if d.err != nil {
		return nil
	}
	if same {
		return old
	}
	d.off = start
	clear(old)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.bytes()
		v := d.bytes()
		old[string(k)] = string(v)
	}
	return old
}

func (d *decoder) request(r *Request) {
	if d.keep != nil {
		r.ContentType = d.text(d.bytes())
	} else {
		r.ContentType = d.string(r.ContentType)
	}
	r.Headers = d.strmap(r.Headers)
	r.Query = d.strmap(r.Query)
	r.Body = d.bytes()
}
