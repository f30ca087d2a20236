package hub_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestKitPluginDelivery: the C and AssemblyScript kits' templates, built from
// source and named in the config by path, shape real deliveries: a signed
// request with the CRM body and header reaches the receiver, and an event
// without an email is skipped; in the hub's process and in a worker process.
func TestKitPluginDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kits' templates: runs in the full test run")
	}
	for kit, build := range map[string]func(testing.TB) []byte{
		"c":              wasmtest.BuildCTemplate,
		"assemblyscript": wasmtest.BuildAssemblyScriptTemplate,
	} {
		t.Run(kit, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), kit+".wasm")
			if err := os.WriteFile(path, build(t), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Run("in_process", func(t *testing.T) { kitDelivery(t, path, "in_process", pluginWorker) })
			t.Run("process", func(t *testing.T) { kitDelivery(t, path, "process", pluginWorker) })
		})
	}
}

func kitDelivery(t *testing.T, path, isolation string, opts ...hub.Option) {
	rc := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"plugins":[{"name":"kit","path":%q,"timeout_ms":1000,"isolation":%q}],"webhooks":[%s]}`, path, isolation,
		webhookJSON("crm", "acme", rc.URL+"/crm", `"events":["contact.*","deal.*"],"plugin":{"name":"kit"}`))
	r := startHub(t, doc, nil, opts...)
	skipped := contact("evt_kit_skip") // a deal has no email: the plugin skips it
	skipped.Type, skipped.Data = "deal.deleted", []byte(`{"id":"d1"}`)
	r.publish(t, skipped)
	e := contact("evt_kit_1")
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e.Source, e.Time = "crm/contacts", &at
	r.publish(t, e)
	q := rc.WaitFor(t, 1, 30*time.Second)[0]
	verified(t, q)
	if want := `{"event":"contact.updated","email":"ada@example.com","at":"2026-11-22T10:00:00Z","source":"crm/contacts"}`; string(q.Body) != want {
		t.Errorf("body %s, want %s", q.Body, want)
	}
	if q.Header.Get("X-Event-Type") != "contact.updated" || q.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", q.Header)
	}
	if id := q.Header.Get("webhook-id"); id != "evt_kit_1:crm" {
		t.Errorf("webhook-id %q: the event without an email was not skipped", id)
	}
	time.Sleep(300 * time.Millisecond) // a late request for the skipped event would show here
	if n := rc.Count(); n != 1 {
		t.Errorf("%d requests, want 1: the event without an email was sent", n)
	}
}
