package routing

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/view"
	"github.com/hookhub/hookhub/sdk/event"
)

// parse is event.Parse, faster: it reads the envelope in one pass with gjson
// and leaves data as it is. Whenever the input holds anything on which it
// could read differently from encoding/json (an escape in a key or an
// attribute, a non-ASCII key, a value of another type than the attribute's,
// data that is not an object), it hands the input to event.Parse, which also
// words every error. A fuzz test holds the two to the same answers. checked
// says the fast path read it: then the event's data is known to be valid
// UTF-8 JSON within the nesting limit, which decodeData need not check again.
func parse(b []byte) (ev *event.Event, checked bool, err error) {
	if ev, ok := parseFast(b); ok {
		if err := ev.Check(); err != nil {
			return nil, false, err
		}
		return ev, true, nil
	}
	ev, err = event.Parse(b)
	return ev, false, err
}

// parseFast decodes b as event.Parse would, before its checks, or reports
// false when it is not sure to.
func parseFast(b []byte) (*event.Event, bool) {
	if len(b) > event.MaxSize || !utf8.Valid(b) || !gjson.ValidBytes(b) || tooDeep(b) {
		return nil, false
	}
	root := gjson.Parse(view.String(b)) // strings in ev share b, as ev.Data does
	if !root.IsObject() {
		return nil, false
	}
	ev := &event.Event{}
	ok := true
	root.ForEach(func(k, v gjson.Result) bool {
		key := k.Raw
		if strings.IndexByte(key, '\\') >= 0 || !ascii(key) {
			ok = false
			return false
		}
		name := key[1 : len(key)-1]
		var dst *string
		switch {
		case strings.EqualFold(name, "specversion"):
			dst = &ev.SpecVersion
		case strings.EqualFold(name, "id"):
			dst = &ev.ID
		case strings.EqualFold(name, "source"):
			dst = &ev.Source
		case strings.EqualFold(name, "type"):
			dst = &ev.Type
		case strings.EqualFold(name, "subject"):
			dst = &ev.Subject
		case strings.EqualFold(name, "datacontenttype"):
			dst = &ev.DataContentType
		case strings.EqualFold(name, "account"):
			dst = &ev.Account
		case strings.EqualFold(name, "initiator"):
			dst = &ev.Initiator
		case strings.EqualFold(name, "lists"):
			dst = &ev.Lists
		case strings.EqualFold(name, "time"):
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
		case strings.EqualFold(name, "data"):
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
		default:
			return true // not an attribute: ignored, as encoding/json does
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

// tooDeep reports whether valid JSON b nests deeper than encoding/json allows.
func tooDeep(b []byte) bool {
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

// decodeData is schemacheck.Decode for an event's data, faster: valid JSON
// without a backslash is built from gjson's reading, with numbers as
// json.Number as the validator expects; anything else goes to
// schemacheck.Decode. checked says parse's fast path has validated data
// already (UTF-8, JSON, nesting). A fuzz test holds the two to the same
// documents.
func decodeData(data []byte, checked bool) (any, error) {
	if bytes.IndexByte(data, '\\') >= 0 || !checked && (!utf8.Valid(data) || !gjson.ValidBytes(data) || tooDeep(data)) {
		return schemacheck.Decode(data)
	}
	return toAny(gjson.Parse(view.String(data))), nil
}

func toAny(r gjson.Result) any {
	switch r.Type {
	case gjson.Null:
		return nil
	case gjson.False:
		return false
	case gjson.True:
		return true
	case gjson.Number:
		return json.Number(r.Raw)
	case gjson.String:
		return r.Str
	}
	if r.IsArray() {
		out := []any{}
		r.ForEach(func(_, v gjson.Result) bool {
			out = append(out, toAny(v))
			return true
		})
		return out
	}
	out := map[string]any{}
	r.ForEach(func(k, v gjson.Result) bool {
		out[k.Str] = toAny(v)
		return true
	})
	return out
}
