package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// attemptEncoder writes the attempt records of one unit: the same bytes as
// json.Marshal of each Attempt, with what the unit's events share (its
// webhook, outcome, response, ...) encoded once, not once per event. A
// batch of 100 events is 100 records that differ only in their job, event
// id and type.
type attemptEncoder struct {
	head []byte // ,"batch":...,"webhook":...,"account":...
	tail []byte // ,"attempt":... to the closing brace
}

// newAttemptEncoder encodes what every record of the unit shares: a's
// fields but Job, EventID and EventType, which must be empty. json.Marshal
// writes them in Attempt's order: "job", then "batch", "webhook" and
// "account" (the head), "event_id", "event_type" (empty: left out), then
// the rest (the tail). A quote inside a string is escaped, so the first
// `,"event_id":""` is the field.
func newAttemptEncoder(a *Attempt) (*attemptEncoder, error) {
	if a.Job != "" || a.EventID != "" || a.EventType != "" {
		return nil, errors.New("delivery: an attempt encoder's shared record names an event")
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	const job, eventID = `{"job":""`, `,"event_id":""`
	i := bytes.Index(b, []byte(eventID))
	if !bytes.HasPrefix(b, []byte(job)) || i < 0 {
		return nil, errors.New("delivery: json.Marshal wrote an attempt record in an unexpected layout")
	}
	return &attemptEncoder{head: b[len(job):i], tail: b[i+len(eventID):]}, nil
}

// record is the record of one event: job, eventID and eventType with the
// shared fields.
func (e *attemptEncoder) record(job, eventID, eventType string) []byte {
	b := make([]byte, 0, len(e.head)+len(e.tail)+len(job)+len(eventID)+len(eventType)+48)
	b = append(b, `{"job":`...)
	b = appendJSONString(b, job)
	b = append(b, e.head...)
	b = append(b, `,"event_id":`...)
	b = appendJSONString(b, eventID)
	if eventType != "" {
		b = append(b, `,"event_type":`...)
		b = appendJSONString(b, eventType)
	}
	return append(b, e.tail...)
}

// appendJSONString appends s as encoding/json writes a string: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
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
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
