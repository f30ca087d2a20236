package hub_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/event"
)

func verified(t *testing.T, q hubtest.Request) {
	t.Helper()
	wh, _ := standardwebhooks.NewWebhook(testSecret)
	if err := wh.Verify(q.Body, q.Header); err != nil {
		t.Errorf("%s: the signature over the transformed body does not verify: %v", q.Path, err)
	}
}

// TestPluginsEndToEnd: one event published on NATS arrives form-encoded,
// Brevo-shaped, batched by getresponse, and filtered by mapper, each signed
// over the body actually sent.
func TestPluginsEndToEnd(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + strings.Join([]string{
		webhookJSON("ac", "acme", rc.URL+"/form", `"events":["contact.*"],"plugin":{"name":"form"}`),
		webhookJSON("brevo", "acme", rc.URL+"/brevo", `"events":["email.*"],"plugin":{"name":"brevo"}`),
		webhookJSON("gr", "acme", rc.URL+"/gr", `"events":["contact.*"],"plugin":{"name":"getresponse"},"batch":{"max_events":2,"max_wait":"5s"}`),
		webhookJSON("pro", "acme", rc.URL+"/mapper", `"events":["contact.*"],"plugin":{"name":"mapper","config":{"filter":{"field":"data.attributes.PLAN","equals":"pro"},"pick":["type","data.email"],"rename":{"data.email":"email"}}}`),
	}, ",") + `]}`
	r := startHub(t, doc, nil)
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r.publish(t, &event.Event{ID: "c1", Type: "contact.updated", Account: "acme", Initiator: "api", Lists: "12", Time: &when,
		Data: json.RawMessage(`{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada","PLAN":"pro"}}`)})
	r.publish(t, &event.Event{ID: "c2", Type: "contact.created", Account: "acme", Initiator: "user", Time: &when,
		Data: json.RawMessage(`{"email":"bob@example.com","attributes":{"PLAN":"free"}}`)})
	r.publish(t, &event.Event{ID: "m1", Type: "email.clicked", Account: "acme", Initiator: "contact", Time: &when,
		Data: json.RawMessage(`{"email":"ada@example.com","link":"https://example.com/offer","message_id":"<x@mail>"}`)})
	// form: 2, brevo: 1, getresponse: 1 batch of 2, mapper: 1 (bob is filtered out).
	rc.WaitFor(t, 5, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	by := map[string][]hubtest.Request{}
	for _, q := range rc.Requests() {
		verified(t, q)
		by[q.Path] = append(by[q.Path], q)
	}
	if n := len(by["/form"]); n != 2 {
		t.Fatalf("form got %d requests, want 2", n)
	}
	for _, q := range by["/form"] {
		if q.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("form content type %q", q.Header.Get("Content-Type"))
		}
		v, err := url.ParseQuery(string(q.Body))
		if err != nil {
			t.Fatal(err)
		}
		if v.Get("type") == "contact.updated" && (v.Get("contact[email]") != "ada@example.com" || v.Get("contact[fields][FIRSTNAME]") != "Ada" || v.Get("initiated_by") != "api" || v.Get("list") != "12") {
			t.Errorf("form body %s", q.Body)
		}
	}
	if len(by["/brevo"]) != 1 {
		t.Fatalf("brevo got %d", len(by["/brevo"]))
	}
	var bv map[string]any
	_ = json.Unmarshal(by["/brevo"][0].Body, &bv)
	if bv["event"] != "click" || bv["email"] != "ada@example.com" || bv["link"] != "https://example.com/offer" || bv["message-id"] != "<x@mail>" || bv["date"] != "2026-11-22 10:00:00" {
		t.Errorf("brevo body %s", by["/brevo"][0].Body)
	}
	if len(by["/gr"]) != 1 {
		t.Fatalf("getresponse got %d requests, want one batch", len(by["/gr"]))
	}
	var gr struct {
		Events []map[string]any `json:"events"`
		Count  int              `json:"count"`
	}
	_ = json.Unmarshal(by["/gr"][0].Body, &gr)
	if gr.Count != 2 || len(gr.Events) != 2 {
		t.Errorf("getresponse body %s", by["/gr"][0].Body)
	}
	if len(by["/mapper"]) != 1 || string(by["/mapper"][0].Body) != `{"email":"ada@example.com","type":"contact.updated"}` {
		t.Errorf("mapper got %d requests: %v", len(by["/mapper"]), by["/mapper"])
	}
	hubtest.Eventually(t, 5*time.Second, "the filtered event to count as skipped", func() bool { return r.Stats().Skipped == 1 })
}

// TestCustomWasmPluginAndHostileNeighbour: a customer's module from the
// config (sha256-pinned) shapes its webhook's requests, while a webhook whose
// module loops forever fails into the dead letters with the reason, and a
// healthy webhook beside them gets everything; with the modules in the hub's
// process (stopped by the rewrite's flag, serve's default) and in worker
// processes (killed at the limit, "isolation": "process").
func TestCustomWasmPluginAndHostileNeighbour(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two modules: slow under the race detector; runs in the full test run")
	}
	t.Run("in_process", func(t *testing.T) { customAndHostile(t, "in_process", pluginWorker) })
	t.Run("process", func(t *testing.T) { customAndHostile(t, "process", pluginWorker) })
}

func customAndHostile(t *testing.T, isolation string, opts ...hub.Option) {
	dir := t.TempDir()
	write := func(name, src string) (string, string) {
		b := wasmtest.Build(t, src)
		p := filepath.Join(dir, name+".wasm")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return p, hex.EncodeToString(sum[:])
	}
	crm, crmSum := write("crm", "examples/plugin")
	loop, _ := write("loop", "hub/internal/pluginhost/testdata/hostile/loop")
	rc := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"plugins":[{"name":"crm","path":%q,"sha256":%q,"isolation":%[4]q},{"name":"loop","path":%[3]q,"timeout_ms":50,"isolation":%[4]q}],"webhooks":[%[5]s]}`,
		crm, crmSum, loop, isolation, strings.Join([]string{
			webhookJSON("custom", "acme", rc.URL+"/custom", `"events":["*"],"plugin":{"name":"crm"}`),
			webhookJSON("stuck", "acme", rc.URL+"/stuck", `"events":["*"],"plugin":{"name":"loop"},"retry":{"schedule":["1s"],"jitter":0}`),
			webhookJSON("plain", "acme", rc.URL+"/plain", `"events":["*"]`),
		}, ","))
	r := startHub(t, doc, nil, opts...)
	const n = 10
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_w%d", i)))
	}
	rc.WaitFor(t, 2*n, 30*time.Second)
	got := map[string]int{}
	for _, q := range rc.Requests() {
		got[q.Path]++
		if q.Path == "/custom" {
			verified(t, q)
			if q.Header.Get("X-Event-Type") != "contact.updated" || !strings.Contains(string(q.Body), `"email":"ada@example.com"`) {
				t.Errorf("custom plugin request: %v %s", q.Header, q.Body)
			}
		}
	}
	if got["/custom"] != n || got["/plain"] != n || got["/stuck"] != 0 {
		t.Errorf("requests per webhook: %v", got)
	}
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), n, 30*time.Second)
	if h := dl[0].Headers(); !strings.Contains(h.Get(bus.HeaderReason), "plugin loop: exceeded its time limit") || h.Get(bus.HeaderAttempts) != "2" {
		t.Errorf("dead letter: reason %q after %s attempts, want the time limit after 2 (retried like a 5xx)",
			h.Get(bus.HeaderReason), h.Get(bus.HeaderAttempts))
	}
}

// TestPluginTimeLimitIsRetried: a plugin that runs out of time (as one does
// under CPU contention) fails its attempt like a 5xx: the job is retried,
// not dead-lettered, and delivered once the plugin answers in time (here:
// once its config is mended through the API).
func TestPluginTimeLimitIsRetried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sometimes.wasm")
	if err := os.WriteFile(path, wasmtest.Build(t, "hub/internal/pluginhost/testdata/hostile/sometimes"), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, fmt.Sprintf(`{"plugins":[{"name":"sometimes","path":%q,"timeout_ms":100}]}`, path))
	code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_slow","account":"acme","url":%q,"events":["*"],
		"plugin":{"name":"sometimes","config":{"spin":true}},"retry":{"schedule":["2s","2s","2s","2s","2s"],"jitter":0}}`, rc.URL))
	if code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	r.publish(t, contact("evt_slowplugin"))
	first := attempts(t, r, 1)[0]
	if first.Outcome != delivery.OutcomeRetrying || !strings.Contains(first.Error, "plugin sometimes: exceeded its time limit") {
		t.Fatalf("first attempt: %s (%s), want it retrying after the plugin's time limit", first.Outcome, first.Error)
	}
	if code, m := a.call("PATCH", "/v1/webhooks/wh_slow", `{"plugin":{"name":"sometimes","config":{"spin":false}}}`); code != 200 {
		t.Fatalf("patch: %d %v", code, m)
	}
	rc.WaitFor(t, 1, 30*time.Second)
	hubtest.Eventually(t, 10*time.Second, "the delivery to be counted", func() bool { return r.Stats().Delivered == 1 })
	if s := r.Stats(); s.DeadLettered != 0 || s.Retried == 0 {
		t.Errorf("stats = %+v, want retries and no dead letters", s)
	}
}
