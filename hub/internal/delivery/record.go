package delivery

import (
	"encoding/json"
	"time"
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

// recordHead and recordTail are Attempt's fields around those of each
// event, in Attempt's order and with its tags.
type recordHead struct {
	Batch   string `json:"batch,omitempty"`
	Webhook string `json:"webhook"`
	Account string `json:"account"`
}

type recordTail struct {
	Attempt     int                 `json:"attempt"`
	Outcome     string              `json:"outcome"`
	Status      int                 `json:"status,omitempty"`
	LatencyMS   float64             `json:"latency_ms"`
	Error       string              `json:"error,omitempty"`
	Response    string              `json:"response,omitempty"`
	Headers     map[string][]string `json:"request_headers,omitempty"`
	At          time.Time           `json:"at"`
	NextRetryAt *time.Time          `json:"next_retry_at,omitempty"`
	Test        bool                `json:"test,omitempty"`
}

// newAttemptEncoder encodes what every record of the unit shares: a's
// fields but Job, EventID and EventType.
func newAttemptEncoder(a *Attempt) (*attemptEncoder, error) {
	head, err := json.Marshal(recordHead{Batch: a.Batch, Webhook: a.Webhook, Account: a.Account})
	if err != nil {
		return nil, err
	}
	t := recordTail{Attempt: a.Attempt, Outcome: a.Outcome, Status: a.Status, LatencyMS: a.LatencyMS, Error: a.Error,
		Response: a.Response, Headers: a.Headers, At: a.At, NextRetryAt: a.NextRetryAt, Test: a.Test}
	tail, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	// {"webhook":...} -> ,"webhook":...  and {"attempt":...} -> ,"attempt":...}
	head[0], tail[0] = ',', ','
	return &attemptEncoder{head: head[:len(head)-1], tail: tail}, nil
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
