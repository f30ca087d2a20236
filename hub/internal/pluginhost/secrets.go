package pluginhost

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/hookhub/hookhub/hub/config"
)

// maxSchemaDepth bounds the walk of a config schema (a $ref may recurse).
const maxSchemaDepth = 16

// secretFields lists the fields of a plugin's config that its JSON Schema
// marks secret, with "writeOnly": true or "x-secret": true: the hub masks
// their values wherever it shows a webhook, keeps them when sent back
// masked, and scrubs them from what it stores and logs. It follows
// properties, additionalProperties and items ("*"), allOf, anyOf, oneOf and
// local $refs (#/$defs/..., #/definitions/...).
func secretFields(schema []byte) []config.FieldPath {
	var root map[string]any
	if len(schema) == 0 || json.Unmarshal(schema, &root) != nil {
		return nil
	}
	var out []config.FieldPath
	var walk func(node map[string]any, at config.FieldPath, depth int)
	walk = func(node map[string]any, at config.FieldPath, depth int) {
		if node == nil || depth > maxSchemaDepth {
			return
		}
		if node["writeOnly"] == true || node["x-secret"] == true {
			if !slices.ContainsFunc(out, func(p config.FieldPath) bool { return slices.Equal(p, at) }) {
				out = append(out, slices.Clone(at))
			}
			return
		}
		if ref, ok := node["$ref"].(string); ok {
			walk(resolveRef(root, ref), at, depth+1)
		}
		if props, ok := node["properties"].(map[string]any); ok {
			for k, v := range props {
				sub, _ := v.(map[string]any)
				walk(sub, append(slices.Clone(at), k), depth+1)
			}
		}
		for _, k := range []string{"additionalProperties", "items"} {
			if sub, ok := node[k].(map[string]any); ok {
				walk(sub, append(slices.Clone(at), "*"), depth+1)
			}
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			list, _ := node[k].([]any)
			for _, v := range list {
				sub, _ := v.(map[string]any)
				walk(sub, at, depth+1)
			}
		}
	}
	walk(root, nil, 0)
	return out
}

// resolveRef finds a local reference (#/$defs/name) in the schema.
func resolveRef(root map[string]any, ref string) map[string]any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var node any = root
	for _, part := range strings.Split(rest, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	m, _ := node.(map[string]any)
	return m
}

// SecretFields are the fields of the plugin's config that its schema marks
// secret (writeOnly or x-secret); none for an unknown plugin or one without
// a schema.
func (h *Host) SecretFields(name string) []config.FieldPath {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if e := h.plugins[name]; e != nil {
		return e.secrets
	}
	return nil
}
