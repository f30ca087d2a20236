package pluginhost

import (
	"fmt"
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
