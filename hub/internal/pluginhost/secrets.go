package pluginhost

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/hookhub/hookhub/hub/config"
)

// Bounds of the walk of a config schema, whose $refs may recurse: how deep
// a path goes, and how many nodes at a path the walk visits in all.
const (
	maxSchemaDepth  = 16
	maxSchemaVisits = 1 << 16
)

// secretFields lists the fields of a plugin's config that its JSON Schema
// marks secret, with "writeOnly": true or "x-secret": true: the hub masks
// their values wherever it shows a webhook, keeps them when sent back
// masked, and scrubs them from what it stores and logs. It follows
// properties, additionalProperties and items ("*"), allOf, anyOf, oneOf and
// local $refs (#/$defs/..., #/definitions/...).
//
// The walk enters only nodes from which a secret can be reached, and a node
// at a path once (unless reached in fewer steps). Before, it went down
// every branch to maxSchemaDepth: 3.3 ms for the mapper plugin's filter
// (and, or, not: no secret at all), on each hub start and plugin run; 1.7 s
// for a schema recursing through eight anyOf branches, ten times that for
// each two more. maxSchemaVisits bounds the paths a hostile schema can
// still make (fields nested through many recursive properties).
func secretFields(schema []byte) []config.FieldPath {
	var root map[string]any
	if len(schema) == 0 || json.Unmarshal(schema, &root) != nil {
		return nil
	}
	leads := secretLeads(root)
	var out []config.FieldPath
	// A node reached again at the same path (through another $ref or
	// anyOf branch) gives nothing new unless reached in fewer steps.
	shallowest := map[string]int{}
	var walk func(node map[string]any, at config.FieldPath, depth int)
	walk = func(node map[string]any, at config.FieldPath, depth int) {
		if node == nil || depth > maxSchemaDepth || !leads[nodeID(node)] || len(shallowest) >= maxSchemaVisits {
			return
		}
		key := fmt.Sprint(nodeID(node), at)
		if d, ok := shallowest[key]; ok && d <= depth {
			return
		}
		shallowest[key] = depth
		if isSecret(node) {
			if !slices.ContainsFunc(out, func(p config.FieldPath) bool { return slices.Equal(p, at) }) {
				out = append(out, slices.Clone(at))
			}
			return
		}
		eachChild(root, node, func(sub map[string]any, key string) {
			next := at
			if key != "" {
				next = append(slices.Clone(at), key)
			}
			walk(sub, next, depth+1)
		})
	}
	walk(root, nil, 0)
	return out
}

func isSecret(node map[string]any) bool { return node["writeOnly"] == true || node["x-secret"] == true }

// eachChild calls f with each schema node under node: a $ref's target and
// allOf, anyOf, oneOf entries at the same path (key ""), properties under
// their name, additionalProperties and items under "*".
func eachChild(root, node map[string]any, f func(sub map[string]any, key string)) {
	if ref, ok := node["$ref"].(string); ok {
		if sub := resolveRef(root, ref); sub != nil {
			f(sub, "")
		}
	}
	if props, ok := node["properties"].(map[string]any); ok {
		for k, v := range props {
			if sub, ok := v.(map[string]any); ok {
				f(sub, k)
			}
		}
	}
	for _, k := range []string{"additionalProperties", "items"} {
		if sub, ok := node[k].(map[string]any); ok {
			f(sub, "*")
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := node[k].([]any)
		for _, v := range list {
			if sub, ok := v.(map[string]any); ok {
				f(sub, "")
			}
		}
	}
}

// nodeID identifies a schema node (a decoded JSON object) by its map.
func nodeID(node map[string]any) uintptr { return reflect.ValueOf(node).Pointer() }

// secretLeads is the set of schema nodes from which a secret node can be
// reached, itself included: each node once, then back along the edges from
// the secret ones.
func secretLeads(root map[string]any) map[uintptr]bool {
	parents := map[uintptr][]uintptr{}
	seen := map[uintptr]bool{}
	var secret []uintptr
	stack := []map[string]any{root}
	seen[nodeID(root)] = true
	for len(stack) > 0 {
		node := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		id := nodeID(node)
		if isSecret(node) {
			secret = append(secret, id)
		}
		eachChild(root, node, func(sub map[string]any, _ string) {
			sid := nodeID(sub)
			parents[sid] = append(parents[sid], id)
			if !seen[sid] {
				seen[sid] = true
				stack = append(stack, sub)
			}
		})
	}
	leads := map[uintptr]bool{}
	for len(secret) > 0 {
		id := secret[len(secret)-1]
		secret = secret[:len(secret)-1]
		if leads[id] {
			continue
		}
		leads[id] = true
		secret = append(secret, parents[id]...)
	}
	return leads
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
	e := h.plugins[name]
	h.mu.RUnlock()
	if e == nil || e.secrets == nil {
		return nil
	}
	return e.secrets()
}
