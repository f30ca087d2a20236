// Package slack is the first-party plugin that turns events into a readable
// message for a Slack-compatible incoming webhook: {"text": "..."}.
package slack

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"github.com/hookhub/hookhub/plugins/internal/pluginutil"
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/event"
)

// ConfigSchema is the JSON Schema of the plugin's config.
//
//go:embed config.schema.json
var ConfigSchema []byte

// Config of the plugin.
type Config struct {
	// Fields of data to show, in order; default: email, then the rest sorted, at most 6.
	Fields []string `json:"fields,omitempty"`
	// Username and icon_emoji are passed to Slack when set.
	Username  string `json:"username,omitempty"`
	IconEmoji string `json:"icon_emoji,omitempty"`
}

// Transform writes one line per event.
func Transform(in *abi.Input) (*abi.Output, error) {
	var cfg Config
	if err := pluginutil.Config(in.Config, &cfg); err != nil {
		return nil, err
	}
	evs, err := pluginutil.Events(in.Events)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(evs))
	for _, e := range evs {
		l, err := line(e, cfg.Fields)
		if err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
	msg := map[string]any{"text": strings.Join(lines, "\n")}
	if cfg.Username != "" {
		msg["username"] = cfg.Username
	}
	if cfg.IconEmoji != "" {
		msg["icon_emoji"] = cfg.IconEmoji
	}
	return &abi.Output{Request: abi.Request{ContentType: "application/json", Headers: in.Request.Headers, Query: in.Request.Query, Body: pluginutil.JSON(msg)}}, nil
}

func line(e *event.Event, fields []string) (string, error) {
	data, err := pluginutil.Object(e.Data)
	if err != nil {
		return "", fmt.Errorf("event %s: data: %v", e.ID, err)
	}
	if len(fields) == 0 {
		for k := range data {
			if k != "email" {
				fields = append(fields, k)
			}
		}
		sort.Strings(fields)
		if _, ok := data["email"]; ok {
			fields = append([]string{"email"}, fields...)
		}
		fields = fields[:min(len(fields), 6)]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* in %s", escape(e.Type), escape(e.Account))
	if e.Initiator != "" {
		fmt.Fprintf(&b, " (by %s)", escape(e.Initiator))
	}
	for _, f := range fields {
		if v, ok := pluginutil.Get(data, f); ok {
			fmt.Fprintf(&b, " · %s: %s", escape(f), escape(pluginutil.String(v)))
		}
	}
	return b.String(), nil
}

// escape keeps Slack's mrkdwn control characters literal.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
