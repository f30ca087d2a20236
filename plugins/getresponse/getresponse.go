// Package getresponse is the first-party plugin for a batching webhook in
// the style of GetResponse's callbacks: one POST carrying many events,
// {"events":[{"type":"subscribe","occurred_at":...,"contact":{...}},...]}.
package getresponse

import (
	_ "embed"
	"time"

	"github.com/hookhub/hookhub/plugins/internal/pluginutil"
	"github.com/hookhub/hookhub/sdk/abi"
)

// ConfigSchema is the JSON Schema of the plugin's config.
//
//go:embed config.schema.json
var ConfigSchema []byte

// Config of the plugin.
type Config struct {
	// Envelope is the key of the array; default "events".
	Envelope string `json:"envelope,omitempty"`
}

var actions = map[string]string{
	"contact.subscribed": "subscribe", "contact.unsubscribed": "unsubscribe", "contact.created": "subscribe",
	"contact.updated": "contact_changed", "contact.deleted": "contact_removed", "email.opened": "open",
	"email.clicked": "click", "email.hard_bounced": "bounce", "email.soft_bounced": "bounce", "email.spam": "complaint",
	"contact.field_changed": "custom_field_changed", "import.finished": "import_finished",
}

// Transform puts every event of the batch in one document.
func Transform(in *abi.Input) (*abi.Output, error) {
	cfg := Config{Envelope: "events"}
	if err := pluginutil.Config(in.Config, &cfg); err != nil {
		return nil, err
	}
	evs, err := pluginutil.Events(in.Events)
	if err != nil {
		return nil, err
	}
	items := make([]any, 0, len(evs))
	for _, e := range evs {
		data, err := pluginutil.Object(e.Data)
		if err != nil {
			return nil, err
		}
		action, ok := actions[e.Type]
		if !ok {
			action = e.Type
		}
		t := time.Now().UTC()
		if e.Time != nil {
			t = e.Time.UTC()
		}
		item := map[string]any{"type": action, "event_type": e.Type, "event_id": e.ID, "occurred_at": t.Format(time.RFC3339), "account": e.Account}
		contact := map[string]any{}
		for _, k := range []string{"email", "contact_id", "id", "name", "list_id", "list_ids", "attributes"} {
			if v, ok := data[k]; ok {
				contact[k] = v
			}
		}
		item["contact"] = contact
		item["data"] = data
		items = append(items, item)
	}
	body := pluginutil.JSON(map[string]any{cfg.Envelope: items, "count": len(items)})
	return &abi.Output{Request: abi.Request{ContentType: "application/json", Headers: in.Request.Headers, Query: in.Request.Query, Body: body}}, nil
}
