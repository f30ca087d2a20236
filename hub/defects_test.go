package hub_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
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

// TestSlackWasmPluginEndToEnd: the slack plugin built to WebAssembly and
// loaded as a module shapes a delivered event into the message a Slack
// incoming webhook takes, signed over that body.
func TestSlackWasmPluginEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slack.wasm")
	if err := os.WriteFile(path, wasmtest.Build(t, "plugins/slack/wasm"), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"plugins":[{"name":"slackwasm","path":%q,"timeout_ms":2000}],"webhooks":[%s]}`, path,
		webhookJSON("slack", "acme", rc.URL+"/slack", `"events":["*"],"plugin":{"name":"slackwasm","config":{"username":"hookhub"}}`))
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_slack"))
	q := rc.WaitFor(t, 1, 30*time.Second)[0]
	verified(t, q)
	want := `{"text":"*contact.updated* in acme (by api) · email: ada@example.com","username":"hookhub"}`
	if string(q.Body) != want || q.Header.Get("Content-Type") != "application/json" {
		t.Errorf("slack request: %s %s\nwant application/json %s", q.Header.Get("Content-Type"), q.Body, want)
	}
}
