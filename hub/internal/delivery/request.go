package delivery

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/hookhub/hookhub/sdk/event"
)

// payload is the Standard Webhooks body of one event.
type payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Account   string          `json:"account"`
	Initiator string          `json:"initiator,omitempty"`
	Data      json.RawMessage `json:"data"`
}

// Body is the default request body for ev: Standard Webhooks JSON
// {"type","timestamp","account","initiator","data"}. published is used as the
// timestamp when the event has no time.
func Body(ev *event.Event, published time.Time) []byte {
	p := payload{Type: ev.Type, Account: ev.Account, Initiator: ev.Initiator, Data: ev.Data}
	if ev.Time != nil {
		p.Timestamp = ev.Time.UTC()
	} else {
		p.Timestamp = published.UTC()
	}
	if len(p.Data) == 0 {
		p.Data = json.RawMessage("{}")
	}
	var buf bytes.Buffer
	buf.Grow(len(ev.Data) + 160)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // cannot fail: Data is valid JSON from a parsed event
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
