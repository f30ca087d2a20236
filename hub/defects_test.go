package hub_test

import (
	"fmt"
	"testing"
)

// TestAPIFormPluginRefusesBatch: the API refuses a webhook that would batch
// for the form plugin (every job would dead-letter), on create and on a
// patch that adds a batch, with a field error on batch.
func TestAPIFormPluginRefusesBatch(t *testing.T) {
	_, a := startAPIHub(t, `{}`)
	fieldIs := func(what string, code int, m map[string]any) {
		t.Helper()
		e, _ := m["error"].(map[string]any)
		details, _ := e["details"].([]any)
		d0, _ := firstOf(details).(map[string]any)
		if code != 400 || errCode(m) != "validation_failed" || e["field"] != "batch" || d0["field"] != "batch" {
			t.Errorf("%s: %d %v, want 400 validation_failed on field batch", what, code, m)
		}
	}
	code, m := a.call("POST", "/v1/webhooks", `{"id":"wh_form","account":"acme","url":"https://example.com/hook","events":["*"],
		"plugin":{"name":"form"},"batch":{"max_events":10}}`)
	fieldIs("create", code, m)
	if code, m := a.call("POST", "/v1/webhooks", `{"id":"wh_form","account":"acme","url":"https://example.com/hook","events":["*"],"plugin":{"name":"form"}}`); code != 201 {
		t.Fatalf("create without batch: %d %v", code, m)
	}
	code, m = a.call("PATCH", "/v1/webhooks/wh_form", `{"batch":{"max_events":10}}`)
	fieldIs("patch", code, m)
	if code, m := a.call("GET", "/v1/webhooks/wh_form", ""); code != 200 || m["batch"] != nil {
		t.Errorf("after the refused patch: %d %v, want no batch", code, fmt.Sprint(m["batch"]))
	}
}

func firstOf(s []any) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}
