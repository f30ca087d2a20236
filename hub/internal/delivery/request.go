package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/internal/view"
	"github.com/hookhub/hookhub/sdk/event"
)

// Body is the default request body for ev: Standard Webhooks JSON
// {"type","timestamp","account","initiator","data"}. published is used as the
// timestamp when the event has no time. data is sent as the publisher wrote it.
func Body(ev *event.Event, published time.Time) []byte {
	ts := published
	if ev.Time != nil {
		ts = *ev.Time
	}
	return appendBody(make([]byte, 0, len(ev.Data)+160), ev.Type, ev.Account, ev.Initiator, ts, string(ev.Data))
}

// rawBody is Body for an event as stored in a job, read without decoding it
// (the router parsed and checked it before writing the job): the body and
// the event's type.
func rawBody(raw []byte, published time.Time) (body []byte, eventType string, err error) {
	var f [5]gjson.Result
	gjson.Parse(view.String(raw)).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			f[0] = v
		case "time":
			f[1] = v
		case "account":
			f[2] = v
		case "initiator":
			f[3] = v
		case "data":
			f[4] = v
		}
		return true
	})
	if f[0].Type != gjson.String || f[2].Type != gjson.String {
		return nil, "", fmt.Errorf("%w: the stored job is not an event (no type or account)", ErrPermanent)
	}
	ts := published
	if f[1].Type == gjson.String {
		if t, err := time.Parse(time.RFC3339Nano, f[1].Str); err == nil {
			ts = t
		}
	}
	return appendBody(make([]byte, 0, len(raw)+64), f[0].Str, f[2].Str, f[3].Str, ts, f[4].Raw), f[0].Str, nil
}

func appendBody(dst []byte, typ, account, initiator string, ts time.Time, data string) []byte {
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
