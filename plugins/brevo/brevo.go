// Package brevo is the first-party plugin that sends events in the flat JSON
// shape of Brevo's webhooks: {"event":"click","email":...,"id":...,
// "date":"2026-11-22 10:00:00","ts":...,"message-id":...,"tags":[...],...}.
// A batch becomes a JSON array of those.
package brevo

import (
	"fmt"
	"strings"
	"time"

	"github.com/hookhub/hookhub/plugins/internal/pluginutil"
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/event"
)

// ConfigSchema: the plugin takes no config.
var ConfigSchema = []byte(`{"type":"object","additionalProperties":false,"properties":{}}`)

// eventNames maps hookhub types to Brevo's event names; others keep their
// last token.
var eventNames = map[string]string{
	"delivered": "delivered", "opened": "opened", "clicked": "click", "soft_bounced": "soft_bounce",
	"hard_bounced": "hard_bounce", "spam": "spam", "unsubscribed": "unsubscribed", "blocked": "blocked",
	"deferred": "deferred", "invalid": "invalid_email", "error": "error", "proxy_opened": "proxy_open",
	"first_opened": "unique_opened", "sent": "request",
	"contact.created": "contact_created", "contact.updated": "contact_updated", "contact.deleted": "contact_deleted",
	"list.contact_added": "list_addition",
}

// fields copied from data, under Brevo's names.
var fields = [][2]string{
	{"email", "email"}, {"message_id", "message-id"}, {"subject", "subject"}, {"tags", "tags"}, {"link", "link"},
	{"reason", "reason"}, {"ip", "sending_ip"}, {"template_id", "template_id"}, {"campaign_name", "camp_name"},
	{"campaign_id", "camp_id"}, {"list_ids", "list_id"}, {"attributes", "attributes"},
}

// Name is Brevo's name for a hookhub event type.
func Name(typ string) string {
	if n, ok := eventNames[typ]; ok {
		return n
	}
	_, last, _ := strings.Cut(typ, ".")
	if n, ok := eventNames[last]; ok && (strings.HasPrefix(typ, "email.") || strings.HasPrefix(typ, "transactional.")) {
		return n
	}
	return strings.ReplaceAll(typ, ".", "_")
}

// Shape is one event in Brevo's shape.
func Shape(e *event.Event) (map[string]any, error) {
	data, err := pluginutil.Object(e.Data)
	if err != nil {
		return nil, fmt.Errorf("event %s: data: %v", e.ID, err)
	}
	out := map[string]any{"event": Name(e.Type)}
	for _, f := range fields {
		if v, ok := data[f[0]]; ok {
			out[f[1]] = v
		}
	}
	if v, ok := data["contact_id"]; ok {
		out["id"] = v
	} else if v, ok := data["id"]; ok {
		out["id"] = v
	}
	t := time.Now().UTC()
	if e.Time != nil {
		t = e.Time.UTC()
	}
	out["date"] = t.Format("2006-01-02 15:04:05")
	out["ts"] = t.Unix()
	out["ts_event"] = t.Unix()
	return out, nil
}

// Transform shapes the event (or the batch, as an array).
func Transform(in *abi.Input) (*abi.Output, error) {
	if err := pluginutil.Config(in.Config, &struct{}{}); err != nil {
		return nil, err
	}
	evs, err := pluginutil.Events(in.Events)
	if err != nil {
		return nil, err
	}
	shaped := make([]any, len(evs))
	for i, e := range evs {
		if shaped[i], err = Shape(e); err != nil {
			return nil, err
		}
	}
	var body []byte
	if len(shaped) == 1 {
		body = pluginutil.JSON(shaped[0])
	} else {
		body = pluginutil.JSON(shaped)
	}
	return &abi.Output{Request: abi.Request{ContentType: "application/json", Headers: in.Request.Headers, Query: in.Request.Query, Body: body}}, nil
}
