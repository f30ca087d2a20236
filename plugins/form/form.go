// Package form is the first-party plugin that sends events the way
// ActiveCampaign does: an application/x-www-form-urlencoded POST with
// bracketed nested keys (contact[email]=..., contact[fields][FIRSTNAME]=...).
package form

import (
	_ "embed"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/hookhub/hookhub/plugins/internal/pluginutil"
	"github.com/hookhub/hookhub/sdk/abi"
)

// ConfigSchema is the JSON Schema of the plugin's config.
//
//go:embed config.schema.json
var ConfigSchema []byte

// Config of the plugin.
type Config struct {
	// Root is the key the event's data goes under; default: the first token
	// of the event type (contact for contact.updated).
	Root string `json:"root,omitempty"`
	// Rename renames top-level data keys; default {"attributes": "fields"},
	// as ActiveCampaign calls custom fields.
	Rename map[string]string `json:"rename,omitempty"`
}

// Transform encodes one event as form parameters:
// type, date_time, initiated_by, list, and <root>[...] for the data.
func Transform(in *abi.Input) (*abi.Output, error) {
	cfg := Config{Rename: map[string]string{"attributes": "fields"}}
	if err := pluginutil.Config(in.Config, &cfg); err != nil {
		return nil, err
	}
	evs, err := pluginutil.Events(in.Events)
	if err != nil {
		return nil, err
	}
	if len(evs) != 1 {
		return nil, fmt.Errorf("form sends one event per request; this webhook batches %d (remove its batch setting)", len(evs))
	}
	e := evs[0]
	data, err := pluginutil.Object(e.Data)
	if err != nil {
		return nil, fmt.Errorf("event data: %v", err)
	}
	v := url.Values{}
	v.Set("type", e.Type)
	if e.Time != nil {
		v.Set("date_time", e.Time.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
	if e.Initiator != "" {
		v.Set("initiated_by", e.Initiator)
	}
	if e.Lists != "" {
		v.Set("list", e.Lists)
	}
	root := cfg.Root
	if root == "" {
		root, _, _ = strings.Cut(e.Type, ".")
	}
	for k, val := range data {
		if to, ok := cfg.Rename[k]; ok {
			k = to
		}
		flatten(v, root+"["+k+"]", val)
	}
	return &abi.Output{Request: abi.Request{
		ContentType: "application/x-www-form-urlencoded",
		Headers:     in.Request.Headers,
		Query:       in.Request.Query,
		Body:        []byte(encode(v)),
	}}, nil
}

func flatten(v url.Values, key string, val any) {
	switch t := val.(type) {
	case map[string]any:
		for k, x := range t {
			flatten(v, key+"["+k+"]", x)
		}
	case []any:
		for i, x := range t {
			flatten(v, key+"["+strconv.Itoa(i)+"]", x)
		}
	default:
		v.Set(key, pluginutil.String(t))
	}
}

// encode is url.Values.Encode with the brackets left readable, as
// ActiveCampaign sends them.
func encode(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.NewReplacer("%5B", "[", "%5D", "]").Replace(url.QueryEscape(k)))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(val))
		}
	}
	return b.String()
}
