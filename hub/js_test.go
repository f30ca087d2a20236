package hub_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/plugins/js"
	"github.com/hookhub/hookhub/sdk/event"
)

// jsWebhook is a webhook whose js plugin runs script.
func jsWebhook(id, account, url, script string) string {
	cfg, _ := json.Marshal(map[string]string{"script": script})
	// Tried twice when the script fails or loops; five times otherwise, as a
	// call may pass the time limit on a busy machine (it is retried like a 5xx).
	retry := `["1s","1s","1s","1s"]`
	if script == jsThrow || script == jsLoop || script == jsAway {
		retry = `["1s"]`
	}
	return webhookJSON(id, account, url, fmt.Sprintf(`"events":["*"],"plugin":{"name":"js","config":%s},"retry":{"schedule":%s,"jitter":0}`, cfg, retry))
}

const (
	jsRename = `function handler(webhook) {
  var d = webhook.payload.data;
  d.mail = d.email;
  delete d.email;
  webhook.headers["x-event-type"] = webhook.eventType;
  return webhook;
}`
	jsSkip  = `function handler(webhook) { return webhook.payload.data.email === "ada@example.com" ? null : webhook; }`
	jsThrow = "function handler(webhook) {\n  var n = 1;\n  return webhook.payload.data.missing.deeper;\n}"
	jsLoop  = `function handler(webhook) { for (;;) {} }`
	// jsMove sends to another path and query of the webhook's own URL.
	jsMove = `function handler(webhook) {
  webhook.headers["x-seen-url"] = webhook.url;
  webhook.url = webhook.url.replace("/move/from", "/move/to") + "?id=" + webhook.payload.data.email;
  return webhook;
}`
	// jsAway tries to send the delivery to another host: the same receiver
	// under another name (localhost for 127.0.0.1), so a delivery let
	// through would arrive and be seen.
	jsAway = `function handler(webhook) { webhook.url = webhook.url.replace("127.0.0.1", "localhost").replace("/away", "/stolen"); return webhook; }`
	// jsNosy looks for a way out of the sandbox and for what another
	// webhook left in a global, and reports what it found in headers.
	jsNosy = `var seen;
function handler(webhook) {
  var found = [];
  ["require", "process", "fetch", "XMLHttpRequest", "os", "fs", "console", "Deno", "Bun"].forEach(function (n) {
    if (typeof globalThis[n] !== "undefined") found.push(n);
  });
  webhook.headers["x-found"] = found.join(",") || "nothing";
  webhook.headers["x-seen"] = seen || "nothing";
  seen = webhook.payload.account + ":" + webhook.payload.data.email;
  return webhook;
}`
)

// TestJSPlugin: the js plugin, its engine (the one the hub embeds) run in the
// WebAssembly sandbox, in a real hub: a
// script renames a field and adds a header on a real delivery; a script
// moves its request to another path and query (it sees the webhook's url),
// and one that points it at another host is dead-lettered, the request never
// sent; null skips
// (attempt outcome skipped); a runtime exception and an endless loop dead-
// letter with the script's line:column and the time limit; a script finds
// no way out of the sandbox and never another account's data; a webhook
// with a syntax error is refused at create time with its line:column.
func TestJSPlugin(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + strings.Join([]string{
		jsWebhook("js_rename", "acme", rc.URL+"/rename", jsRename),
		jsWebhook("js_skip", "acme", rc.URL+"/skip", jsSkip),
		jsWebhook("js_throw", "acme", rc.URL+"/throw", jsThrow),
		jsWebhook("js_loop", "acme", rc.URL+"/loop", jsLoop),
		jsWebhook("js_move", "acme", rc.URL+"/move/from", jsMove),
		jsWebhook("js_away", "acme", rc.URL+"/away", jsAway),
		jsWebhook("js_nosy_acme", "acme", rc.URL+"/nosy/acme", jsNosy),
		jsWebhook("js_nosy_globex", "globex", rc.URL+"/nosy/globex", jsNosy),
	}, ",") + `]}`
	start := time.Now()
	r, a := startAPIHub(t, doc)
	t.Logf("hub with the js engine compiled started in %v", time.Since(start))

	r.publish(t, contact("evt_js1"))
	r.publish(t, &event.Event{ID: "evt_js2", Type: "contact.updated", Account: "globex", Initiator: "api",
		Data: json.RawMessage(`{"email":"grace@globex.example"}`)})
	rc.WaitFor(t, 4, 90*time.Second) // rename, move, nosy acme, nosy globex
	by := map[string]hubtest.Request{}
	for _, q := range rc.Requests() {
		by[q.Path] = q
	}
	q, ok := by["/rename"]
	if !ok {
		t.Fatalf("the renaming webhook got nothing: %v", rc.Requests())
	}
	verified(t, q)
	var body struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(q.Body, &body); err != nil {
		t.Fatalf("renamed body %s: %v", q.Body, err)
	}
	if body.Data["mail"] != "ada@example.com" || body.Data["email"] != nil || body.Type != "contact.updated" {
		t.Errorf("renamed body: %s, want data.email moved to data.mail", q.Body)
	}
	if got := q.Header.Get("X-Event-Type"); got != "contact.updated" {
		t.Errorf("x-event-type header = %q, want contact.updated", got)
	}
	for _, acct := range []string{"acme", "globex"} {
		q, ok := by["/nosy/"+acct]
		if !ok {
			t.Fatalf("%s's nosy webhook got nothing", acct)
		}
		if got := q.Header.Get("X-Found"); got != "nothing" {
			t.Errorf("%s: the script found %q in the sandbox, want nothing", acct, got)
		}
		if got := q.Header.Get("X-Seen"); got != "nothing" {
			t.Errorf("%s: the script saw %q left by another webhook, want nothing", acct, got)
		}
	}
	if _, ok := by["/skip"]; ok {
		t.Error("the skipping webhook got a request")
	}
	// The handler saw the webhook's URL, and moved the request to another
	// path and query on the same host.
	if q, ok := by["/move/to"]; !ok {
		t.Errorf("the moving webhook's request did not arrive at /move/to: %v", rc.Requests())
	} else {
		verified(t, q)
		if q.Query != "id=ada@example.com" && q.Query != "id=ada%40example.com" {
			t.Errorf("moved request's query = %q, want id=ada@example.com", q.Query)
		}
		if got := q.Header.Get("X-Seen-Url"); got != rc.URL+"/move/from" {
			t.Errorf("the handler saw url %q, want %q", got, rc.URL+"/move/from")
		}
	}

	// throw, loop and away: each tried twice, then dead-lettered with the
	// reason; away's request never arrives anywhere.
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 3, 60*time.Second)
	reasons := map[string]string{}
	for _, m := range dl {
		reasons[m.Headers().Get(bus.HeaderWebhook)] = m.Headers().Get(bus.HeaderReason)
	}
	if got := reasons["js_throw"]; !strings.Contains(got, "plugin js: script:3:") || !strings.Contains(got, "TypeError") {
		t.Errorf("the throwing script's dead letter: reason %q, want plugin js: script:3:col: TypeError", got)
	}
	if got := reasons["js_loop"]; !strings.Contains(got, "plugin js: exceeded its time limit") {
		t.Errorf("the looping script's dead letter: reason %q, want the time limit", got)
	}
	if got := reasons["js_away"]; !strings.Contains(got, `plugin "js" set the URL to the host "localhost:`) || !strings.Contains(got, "may change only the path and query") {
		t.Errorf("the redirecting script's dead letter: reason %q, want the other host refused", got)
	}
	for _, q := range rc.Requests() {
		if strings.HasPrefix(q.Path, "/stolen") || strings.HasPrefix(q.Path, "/away") {
			t.Errorf("a request the script redirected to another host arrived: %s", q.Path)
		}
	}
	var skipped bool
	for _, m := range r.waitStream(t, streamName("hookhub", "ATTEMPTS"), 1, 10*time.Second) {
		var at delivery.Attempt
		if err := json.Unmarshal(m.Data(), &at); err == nil && at.Webhook == "js_skip" {
			skipped = at.Outcome == delivery.OutcomeSkipped
		}
	}
	if !skipped {
		t.Error("no attempt of js_skip with outcome skipped")
	}

	// A syntax error is refused when the webhook is created, at line:col.
	cfg, _ := json.Marshal(map[string]string{"script": "function handler(webhook) {\n  return webhook +;\n}"})
	code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"js_bad","account":"acme","url":%q,"events":["*"],"plugin":{"name":"js","config":%s}}`, rc.URL, cfg))
	if msg := fmt.Sprint(m); code != 400 || !strings.Contains(msg, "script:2:") || !strings.Contains(msg, "SyntaxError") {
		t.Errorf("create with a syntax error: %d %v, want 400 naming script:2:col and SyntaxError", code, m)
	}
	code, m = a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"js_none","account":"acme","url":%q,"events":["*"],"plugin":{"name":"js","config":{}}}`, rc.URL))
	if msg := fmt.Sprint(m); code != 400 || !strings.Contains(msg, "script") {
		t.Errorf("create without a script: %d %v, want 400 naming script", code, m)
	}
}

// TestJSEngineIsItsSource: the js engine the hub embeds (plugins/js/js.wasm)
// is what plugins/js/quickjs/build.sh makes from the source in this tree:
// the committed module cannot drift from engine.c, the C kit or QuickJS's
// pinned version. After changing any of them: sh plugins/js/quickjs/build.sh.
//
// Another clang makes other bytes from the same source: where this machine's
// differs from the one build.sh noted (plugins/js/quickjs/clang-version.txt),
// the bytes are not compared, and the engine's own tests
// (hub/internal/pluginhost, on this machine's build) are what hold.
func TestJSEngineIsItsSource(t *testing.T) {
	built := wasmtest.JSEngine(t)
	noted, err := os.ReadFile(filepath.Join("..", "plugins", "js", "quickjs", "clang-version.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if here := wasmtest.Clang(); here != strings.TrimSpace(string(noted)) {
		t.Skipf("js.wasm was built with %q, this machine has %q: the bytes are not compared", strings.TrimSpace(string(noted)), here)
	}
	if !bytes.Equal(built, js.Engine) {
		t.Fatalf("plugins/js/js.wasm (%d bytes, sha256 %x) is not what its source builds (%d bytes, sha256 %x): run sh plugins/js/quickjs/build.sh and commit js.wasm",
			len(js.Engine), sha256.Sum256(js.Engine), len(built), sha256.Sum256(built))
	}
}
