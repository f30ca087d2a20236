package pluginhost

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestSecretFields: fields marked writeOnly or x-secret are found through
// properties, items, additionalProperties, allOf and local $refs, and a
// recursive $ref ends.
func TestSecretFields(t *testing.T) {
	schema := []byte(`{"type":"object","properties":{
	  "api_key":{"type":"string","writeOnly":true},
	  "label":{"type":"string"},
	  "auth":{"$ref":"#/$defs/auth"},
	  "hooks":{"type":"array","items":{"properties":{"secret":{"x-secret":true}}}},
	  "extra":{"additionalProperties":{"type":"string","writeOnly":true}},
	  "tree":{"$ref":"#/$defs/tree"}},
	 "allOf":[{"properties":{"password":{"writeOnly":true}}}],
	 "$defs":{"auth":{"properties":{"token":{"type":"string","x-secret":true}}},
	  "tree":{"properties":{"child":{"$ref":"#/$defs/tree"}}}}}`)
	got := map[string]bool{}
	for _, p := range secretFields(schema) {
		got[fmt.Sprint(p)] = true
	}
	for _, want := range []string{"[api_key]", "[auth token]", "[hooks * secret]", "[extra *]", "[password]"} {
		if !got[want] {
			t.Errorf("secretFields lacks %s; got %v", want, got)
		}
	}
	if len(got) != 5 {
		t.Errorf("secretFields = %v, want exactly 5", got)
	}
	if secretFields(nil) != nil || secretFields([]byte("not json")) != nil {
		t.Error("no schema, or a broken one, must mark nothing")
	}
}

// TestSecretFieldsOfAWideRecursiveSchema: a schema whose $ref recurses down
// twelve anyOf branches at each level is walked once per node and path
// (before, each branch again: 1.7 s for eight branches, about ten times
// that for each two more), and yields the same five secrets as that walk
// did for four branches; a recursive schema with no secret (like the mapper
// plugin's filter) is not walked at all.
func TestSecretFieldsOfAWideRecursiveSchema(t *testing.T) {
	wide := []byte(`{"$ref":"#/$defs/n","$defs":{"n":{"anyOf":[` + strings.Repeat(`{"$ref":"#/$defs/n"},`, 11) + `
	  {"properties":{"key":{"writeOnly":true},"child":{"$ref":"#/$defs/n"}}}]}}}`)
	var got []string
	for _, p := range secretFields(wide) {
		got = append(got, fmt.Sprint(p))
	}
	slices.Sort(got)
	if want := []string{"[child child child child key]", "[child child child key]", "[child child key]", "[child key]", "[key]"}; !slices.Equal(got, want) {
		t.Errorf("secretFields = %v, want %v (as deep as maxSchemaDepth lets a path go)", got, want)
	}
	noSecret := []byte(`{"$ref":"#/$defs/n","$defs":{"n":{"properties":{"and":{"items":{"$ref":"#/$defs/n"}},"or":{"items":{"$ref":"#/$defs/n"}},"not":{"$ref":"#/$defs/n"}}}}}`)
	var root map[string]any
	_ = json.Unmarshal(noSecret, &root)
	if leads := secretLeads(root); len(leads) != 0 {
		t.Errorf("a schema without secrets leads to %d nodes, want none walked", len(leads))
	}
}
