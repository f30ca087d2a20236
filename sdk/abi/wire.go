package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
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
	d := decoder{b: b}
	if !d.magic(inputMagic) {
		return nil, d.fail("input does not start with " + inputMagic)
	}
	in := &Input{}
	in.Webhook = string(d.bytes())
	in.Config = d.bytes()
	n := d.count(MaxEvents)
	if d.err == nil && n > 0 {
		in.Events = make([][]byte, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			in.Events = append(in.Events, d.bytes())
		}
	}
	d.request(&in.Request)
	in.URL = d.optString()
	if d.err == nil && d.off != len(b) {
		return nil, d.fail(fmt.Sprintf("%d bytes after the input", len(b)-d.off))
	}
	return in, d.err
}

// DecodeOutput decodes a guest's answer: an Output, or the guest's error as a
// *GuestError. Byte slices in the output alias b.
func DecodeOutput(b []byte) (*Output, error) {
	d := decoder{b: b}
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
		out.URL = d.optString()
	default:
		d.fail(fmt.Sprintf("unknown output kind %d", kind))
	}
	if d.err == nil && d.off != len(b) {
		return nil, d.fail(fmt.Sprintf("%d bytes after the output", len(b)-d.off))
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
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
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
	b   []byte
	off int
	err error
}

func (d *decoder) fail(why string) error {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s (at byte %d)", ErrMalformed, why, d.off)
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
		d.fail(fmt.Sprintf("a field of %d bytes runs past the end", n))
		return nil
	}
	v := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return v
}

// optString reads a trailing optional string: "" when no bytes remain.
func (d *decoder) optString() string {
	if d.err != nil || d.off == len(d.b) {
		return ""
	}
	return string(d.bytes())
}

func (d *decoder) count(limit int) int {
	n := d.u32()
	if d.err == nil && n > uint32(limit) {
		d.fail(fmt.Sprintf("count %d is over the limit of %d", n, limit))
		return 0
	}
	return int(n)
}

func (d *decoder) strmap() map[string]string {
	n := d.count(MaxFields)
	if d.err != nil || n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.bytes()
		v := d.bytes()
		m[string(k)] = string(v)
	}
	return m
}

func (d *decoder) request(r *Request) {
	r.ContentType = string(d.bytes())
	r.Headers = d.strmap()
	r.Query = d.strmap()
	r.Body = d.bytes()
}
