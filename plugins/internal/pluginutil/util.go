// Package pluginutil holds what the first-party plugins share: reading
// events and configs, and walking JSON by dotted paths. Standard library
// only, so every plugin also builds for wasip1.
package pluginutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookhub/hookhub/sdk/event"
)

// Events parses the input's CloudEvents.
func Events(raws [][]byte) ([]*event.Event, error) {
	if len(raws) == 0 {
		return nil, fmt.Errorf("no event in the input")
	}
	out := make([]*event.Event, len(raws))
	for i, r := range raws {
		var e event.Event
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, fmt.Errorf("event %d is not a JSON CloudEvent: %v", i, err)
		}
		out[i] = &e
	}
	return out, nil
}

// Config decodes a plugin config strictly (unknown fields are errors); an
// empty config leaves v as it is.
func Config(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config: %v", err)
	}
	return nil
}

// Decode reads JSON into generic values, numbers kept exact.
func Decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Object reads a JSON object (an empty one for empty input).
func Object(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	v, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// EventObject is an event as generic JSON, for paths like data.email.
func EventObject(e *event.Event) map[string]any {
	m := map[string]any{"id": e.ID, "source": e.Source, "type": e.Type, "account": e.Account}
	if e.Initiator != "" {
		m["initiator"] = e.Initiator
	}
	if e.Lists != "" {
		m["lists"] = e.Lists
	}
	if e.Subject != "" {
		m["subject"] = e.Subject
	}
	if e.Time != nil {
		m["time"] = e.Time.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	if d, err := Object(e.Data); err == nil {
		m["data"] = d
	}
	return m
}

// Get follows a dotted path through nested objects.
func Get(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Set puts val at a dotted path, making objects on the way.
func Set(m map[string]any, path string, val any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = val
}

// Delete removes the value at a dotted path.
func Delete(m map[string]any, path string) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, keys[len(keys)-1])
}

// String renders a scalar the way a form or a message shows it.
func String(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "true"
		}
		return "false"
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// JSON encodes v without HTML escaping.
func JSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
