package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/view"
	"github.com/hookhub/hookhub/sdk/event"
)

// Body is the default request body for ev: Standard Webhooks JSON
// {"type","timestamp","account","initiator","via","data"} (initiator and via
// when the event has them). published is used as the
// timestamp when the event has no time. data is sent as the publisher wrote it.
func Body(ev *event.Event, published time.Time) []byte {
	ts := published
	if ev.Time != nil {
		ts = *ev.Time
	}
	return appendBody(make([]byte, 0, len(ev.Data)+160), ev.Type, ev.Account, ev.Initiator, ev.Via, ts, view.String(ev.Data))
}

// rawBody is Body for an event as stored in a job: the event is read with
// envelope.ParseStored, the reading the router routed and checked it by
// (without checking again that the router's bytes are JSON), so the body
// signed and sent says what was routed. It returns the body and the
// event's type; an event that reading refuses fails for good.
func rawBody(raw []byte, published time.Time) (body []byte, eventType string, err error) {
	ev, err := envelope.ParseStored(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: the stored job is not an event the hub accepts: %v", ErrPermanent, err)
	}
	return Body(ev, published), ev.Type, nil
}

func appendBody(dst []byte, typ, account, initiator, via string, ts time.Time, data string) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"timestamp":"`...)
	dst = ts.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","account":`...)
	dst = appendString(dst, account)
	if initiator != "" {
		dst = append(dst, `,"initiator":`...)
		dst = appendString(dst, initiator)
	}
	if via != "" {
		dst = append(dst, `,"via":`...)
		dst = appendString(dst, via)
	}
	dst = append(dst, `,"data":`...)
	if data == "" {
		data = "{}"
	}
	dst = append(dst, data...)
	return append(dst, '}')
}

// appendString appends s as a JSON string. Types, accounts and initiators are
// plain ASCII (the router checks them), so the slow path is for the odd one.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s)
			return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
