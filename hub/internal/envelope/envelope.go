// Package envelope is the hub's one reading of an event: the router, the
// ordered-delivery sequencer and the body builder all take the value Parse
// returns, so what was routed and checked is what is signed and sent.
package envelope

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/internal/view"
	"github.com/hookhub/hookhub/sdk/event"
)

// Parse is event.Parse, faster: it reads the envelope in one pass with gjson
// and leaves data as it is. Whenever the input holds anything on which it
// could read differently from encoding/json (an escape in a key or an
// attribute, a non-ASCII key, a value of another type than the attribute's,
// data that is not an object), it hands the input to event.Parse, which also
// words every error. A fuzz test holds the two to the same answers. checked
// says the fast path read it: then the event's data is known to be valid
// UTF-8 JSON within the nesting limit, which a decoder of data need not check
// again.
func Parse(b []byte) (ev *event.Event, checked bool, err error) {
	if ev, ok := parseFast(b, true); ok {
		if err := ev.Check(); err != nil {
			return nil, false, err
		}
		return ev, true, nil
	}
	ev, err = event.Parse(b)
	return ev, false, err
}

// ParseStored is Parse for an event the router stored after Parse accepted
// it (a delivery job, an archived event): the same reading, without checking
// again what cannot have changed, that the bytes are valid UTF-8 JSON within
// the nesting limit. Bytes Parse would not accept may read as anything.
func ParseStored(b []byte) (*event.Event, error) {
	if ev, ok := parseFast(b, false); ok {
		if err := ev.Check(); err != nil {
			return nil, err
		}
		return ev, nil
	}
	return event.Parse(b)
}

// parseFast decodes b as event.Parse would, before its checks, or reports
// false when it is not sure to. validate false skips checking that b is
// valid UTF-8 JSON within the nesting limit: for bytes Parse accepted before.
func parseFast(b []byte, validate bool) (*event.Event, bool) {
	if len(b) > event.MaxSize || validate && (!utf8.Valid(b) || !gjson.ValidBytes(b) || TooDeep(b)) {
		return nil, false
	}
	root := gjson.Parse(view.String(b)) // strings in ev share b, as ev.Data does
	if !root.IsObject() {
		return nil, false
	}
	ev := &event.Event{}
	ok := true
	var seen uint16     // attributes met, by their bit
	var others []string // other members met
	root.ForEach(func(k, v gjson.Result) bool {
		key := k.Raw
		if strings.IndexByte(key, '\\') >= 0 || !ascii(key) {
			ok = false
			return false
		}
		name := key[1 : len(key)-1]
		var dst *string
		var bit uint16
		switch name {
		case "specversion":
			dst, bit = &ev.SpecVersion, 1<<0
		case "id":
			dst, bit = &ev.ID, 1<<1
		case "source":
			dst, bit = &ev.Source, 1<<2
		case "type":
			dst, bit = &ev.Type, 1<<3
		case "subject":
			dst, bit = &ev.Subject, 1<<4
		case "datacontenttype":
			dst, bit = &ev.DataContentType, 1<<5
		case "account":
			dst, bit = &ev.Account, 1<<6
		case "initiator":
			dst, bit = &ev.Initiator, 1<<7
		case "lists":
			dst, bit = &ev.Lists, 1<<8
		case "time":
			bit = 1 << 9
		case "data":
			bit = 1 << 10
		case "via":
			dst, bit = &ev.Via, 1<<11
		default:
			// Not an attribute: ignored, unless it is one in another case
			// or is named twice, which event.Parse refuses and words.
			if len(others) >= maxOthers || slices.Contains(others, name) || isAttributeFolded(name) {
				ok = false
				return false
			}
			others = append(others, name)
			return true
		}
		if seen&bit != 0 { // named twice: event.Parse refuses it
			ok = false
			return false
		}
		seen |= bit
		switch name {
		case "time":
			switch {
			case v.Type == gjson.Null:
				ev.Time = nil
			case v.Type == gjson.String && strings.IndexByte(v.Raw, '\\') < 0:
				t := new(time.Time)
				if t.UnmarshalJSON([]byte(v.Raw)) != nil {
					ok = false
				}
				ev.Time = t
			default:
				ok = false
			}
			return ok
		case "data":
			if !v.IsObject() {
				ok = false
				return false
			}
			if v.Index <= 0 { // gjson did not say where it is
				ev.Data = json.RawMessage(v.Raw)
			} else {
				ev.Data = json.RawMessage(b[v.Index : v.Index+len(v.Raw) : v.Index+len(v.Raw)]) // shares b, as the router keeps it
			}
			return true
		}
		switch {
		case v.Type == gjson.Null: // leaves the attribute as it was
		case v.Type == gjson.String && strings.IndexByte(v.Raw, '\\') < 0:
			*dst = v.Str
		default:
			ok = false
		}
		return ok
	})
	if !ok {
		return nil, false
	}
	return ev, true
}

// maxOthers bounds the members other than attributes that the fast path
// compares pairwise; an event with more goes to event.Parse.
const maxOthers = 16

// isAttributeFolded reports whether ASCII name is an attribute name in
// another case.
func isAttributeFolded(name string) bool {
	for _, a := range event.Attributes {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// maxDepth is encoding/json's nesting limit: deeper input is its error.
const maxDepth = 10000

// TooDeep reports whether valid JSON b nests deeper than encoding/json allows.
func TooDeep(b []byte) bool {
	if bytes.Count(b, []byte{'{'})+bytes.Count(b, []byte{'['}) <= maxDepth {
		return false // cannot nest deeper than it opens (counted fast)
	}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > maxDepth {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}
