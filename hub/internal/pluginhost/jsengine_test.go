package pluginhost_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// The js plugin's engine (plugins/js), built from its source, run in process
// as the hub runs it: registered lazily with its config checked by a call.

func jsHost(t *testing.T) *pluginhost.Host {
	t.Helper()
	wasm := wasmtest.JSEngine(t)
	h, err := pluginhost.New(pluginhost.Options{CacheDir: wasmtest.CacheDir, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	h.RegisterLazy(pluginhost.Lazy{
		Module:      pluginhost.Module{Name: "js", MemoryMiB: 64, Timeout: time.Second, Instances: 1}, // one: its contexts are the engine's state
		Make:        func(context.Context) ([]byte, error) { return wasm, nil },
		CheckByCall: true,
	})
	return h
}

func jsInput(webhook, script string) *abi.Input {
	return &abi.Input{
		Webhook: webhook,
		Config:  []byte(`{"script":` + jsQuote(script) + `}`),
		Events:  [][]byte{[]byte(`{"specversion":"1.0","id":"e1","type":"contact.updated","data":{"email":"ada@example.com"}}`)},
		Request: abi.Request{ContentType: "application/json", Headers: map[string]string{"x-a": "1"},
			Body: []byte(`{"type":"contact.updated","data":{"email":"ada@example.com"}}`)},
		URL: "https://crm.example/hooks?key=1",
	}
}

func jsQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func jsRun(t *testing.T, h *pluginhost.Host, in *abi.Input) (*abi.Output, error) {
	t.Helper()
	return h.Transform(context.Background(), "js", in)
}

func TestJSRenamesAndAddsHeader(t *testing.T) {
	h := jsHost(t)
	out, err := jsRun(t, h, jsInput("wh1", `function handler(w) {
  w.payload.data.mail = w.payload.data.email;
  delete w.payload.data.email;
  w.headers["x-event"] = w.eventType;
  return w;
}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out.Request.Body), `{"type":"contact.updated","data":{"mail":"ada@example.com"}}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if out.Request.Headers["x-event"] != "contact.updated" || out.Request.Headers["x-a"] != "1" || out.Request.ContentType != "application/json" {
		t.Errorf("request = %+v", out.Request)
	}
}

func TestJSNullSkips(t *testing.T) {
	h := jsHost(t)
	for _, script := range []string{`function handler(w) { return null }`, `function handler(w) {}`} {
		out, err := jsRun(t, h, jsInput("wh1", script))
		if err != nil || !out.Skip {
			t.Errorf("%s: got %+v, %v; want a skip", script, out, err)
		}
	}
}

// TestJSBodyAndHeaders: a string payload goes as is, a removed header is
// not sent, null and undefined headers are left out, other values are
// strings, and a payload left alone is the body as it came.
func TestJSBodyAndHeaders(t *testing.T) {
	h := jsHost(t)
	out, err := jsRun(t, h, jsInput("wh1", `function handler(w) {
  w.payload = "email=" + w.payload.data.email;
  w.headers = {"x-n": 7, "x-null": null, "x-u": undefined, "x-b": true};
  return w;
}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Request.Body) != "email=ada@example.com" {
		t.Errorf("body %q", out.Request.Body)
	}
	want := map[string]string{"x-n": "7", "x-b": "true"}
	if len(out.Request.Headers) != len(want) || out.Request.Headers["x-n"] != "7" || out.Request.Headers["x-b"] != "true" {
		t.Errorf("headers %v, want %v", out.Request.Headers, want)
	}
	in := jsInput("wh1", `function handler(w) { w.headers.x = "1"; return w }`)
	in.Request.Body = []byte("not json at all")
	out, err = jsRun(t, h, in)
	if err != nil || string(out.Request.Body) != "not json at all" {
		t.Errorf("a body that is not JSON: %+v, %v; want it unchanged", out, err)
	}
	in = jsInput("wh1", `function handler(w) { return {payload: w.payload.data} }`)
	out, err = jsRun(t, h, in)
	if err != nil || string(out.Request.Body) != `{"email":"ada@example.com"}` || len(out.Request.Headers) != 1 {
		t.Errorf("a new object without headers: %+v, %v; want the payload and the headers as they came", out, err)
	}
}

func TestJSSyntaxErrorLineColumn(t *testing.T) {
	h := jsHost(t)
	err := h.ValidateConfig("js", []byte(`{"script":"function handler(w) {\n  return w +;\n}"}`))
	if err == nil || !strings.Contains(err.Error(), "script:2:") || !strings.Contains(err.Error(), "SyntaxError") {
		t.Fatalf("got %v, want a SyntaxError at script:2:col", err)
	}
	if err := h.ValidateConfig("js", []byte(`{"script":"function handler(w) { return w }"}`)); err != nil {
		t.Errorf("a good script: %v", err)
	}
	for cfg, want := range map[string]string{`{"script":"  "}`: "script is required", `{}`: "script"} {
		if err := h.ValidateConfig("js", []byte(cfg)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %s: %v, want an error naming %q", cfg, err, want)
		}
	}
}

func TestJSRuntimeErrorLineColumn(t *testing.T) {
	h := jsHost(t)
	_, err := jsRun(t, h, jsInput("wh1", "function handler(w) {\n  return w.nope.deeper;\n}"))
	if err == nil || !strings.Contains(err.Error(), "script:2:") || !strings.Contains(err.Error(), "TypeError") {
		t.Fatalf("got %v, want a TypeError at script:2:col", err)
	}
	_, err = jsRun(t, h, jsInput("wh1", "var x = 1;\nthrow new Error('at load');\nfunction handler(w) { return w }"))
	if err == nil || !strings.Contains(err.Error(), "script:2:") || !strings.Contains(err.Error(), "at load") {
		t.Errorf("a throw when the script runs: %v, want it at script:2:col", err)
	}
	for script, want := range map[string]string{
		`function handler(w) { return 7 }`:                                           "handler returned 7",
		`function handler(w) { return [w] }`:                                         "want the webhook object or null",
		`function handler(w) { w.payload = {}; w.payload.me = w.payload; return w }`: "cannot be turned into JSON",
		`function handler(w) { function f() { return f() + 1 } return f() }`:         "RangeError",
	} {
		if _, err := jsRun(t, h, jsInput("wh1", script)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", script, err, want)
		}
	}
}

// TestJSWebhooksDoNotShareGlobals: two webhooks with the same script each
// get their own context, so one cannot read what the other left in a
// global; the same webhook keeps its own across calls.
func TestJSWebhooksDoNotShareGlobals(t *testing.T) {
	h := jsHost(t)
	script := `var last; function handler(w) { var prev = last; last = w.payload.data.email; w.payload.prev = prev || null; return w }`
	if _, err := jsRun(t, h, jsInput("acme-wh", script)); err != nil {
		t.Fatal(err)
	}
	out, err := jsRun(t, h, jsInput("other-wh", script))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out.Request.Body), `"prev":null`) {
		t.Errorf("the second webhook saw the first's data: %s", out.Request.Body)
	}
	out, err = jsRun(t, h, jsInput("acme-wh", script))
	if err != nil || !strings.Contains(string(out.Request.Body), `"prev":"ada@example.com"`) {
		t.Errorf("the first webhook's second call: %s, %v; want its own global kept", out.Request.Body, err)
	}

	// One webhook's script changes the built-ins; another's sees its own.
	polluter := `Object.prototype.leak = "acme"; JSON.stringify = function () { return '"stolen"' };
function handler(w) { return w }`
	if _, err := jsRun(t, h, jsInput("acme-polluter", polluter)); err != nil {
		t.Fatal(err)
	}
	out, err = jsRun(t, h, jsInput("other-reader", `function handler(w) { w.headers["x-leak"] = String(({}).leak); return w }`))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Request.Headers["x-leak"]; got != "undefined" || strings.Contains(string(out.Request.Body), "stolen") {
		t.Errorf("another webhook's script changed this one's built-ins: x-leak %q, body %s", got, out.Request.Body)
	}
}

// TestJSDeepAndHungryScripts: a script that eats memory fails its call,
// out of memory (QuickJS's error, which the engine keeps room to make) or at
// the time limit (wazero copies an instance's memory as it grows, so
// filling 64 MiB takes about a second); one that builds a value too deep to
// turn into JSON runs out of stack (QuickJS's JSON.stringify goes slower
// the deeper it is: 0.7 s at 10,000 levels), or of time; the next call works. A body nested
// deeper than the kit's JSON reader goes (1,000 levels) reaches the handler
// as a string.
func TestJSDeepAndHungryScripts(t *testing.T) {
	h := jsHost(t)
	for script, want := range map[string][]string{
		`function handler(w) { var a = []; for (var i = 0; i < 1000; i++) a.push(new ArrayBuffer(1 << 20)); }`:       {"out of memory", "time limit"},
		`function handler(w) { var a = []; for (var i = 0; i < 1000000; i++) a.push({i: i, s: "x" + i}); return w }`: {"out of memory", "time limit"},
		`function handler(w) { var o = {}; for (var i = 0; i < 30000; i++) o = {o: o}; w.payload = o; return w }`:    {"ran out of stack", "time limit"},
	} {
		_, err := jsRun(t, h, jsInput("wh1", script))
		if err == nil || !slices.ContainsFunc(want, func(w string) bool { return strings.Contains(err.Error(), w) }) {
			t.Errorf("%s: %v, want an error naming one of %q", script, err, want)
		}
		if out, err := jsRun(t, h, jsInput("wh1", `function handler(w) { return w }`)); err != nil || out.Skip {
			t.Errorf("the call after: %+v, %v", out, err)
		}
	}
	in := jsInput("wh1", `function handler(w) { w.headers["x-type"] = typeof w.payload; return w }`)
	in.Request.Body = []byte(strings.Repeat("[", 5000) + strings.Repeat("]", 5000))
	out, err := jsRun(t, h, in)
	if err != nil || out.Request.Headers["x-type"] != "string" || string(out.Request.Body) != string(in.Request.Body) {
		t.Errorf("a body 5,000 levels deep: %v, %v; want it as a string, sent unchanged", out, err)
	}
}

// TestJSContextsUsedLastAreKept: an instance keeps the 64 webhooks'
// contexts used last; a 65th drops the one used longest ago, which runs its
// script again on its next call (its globals start over), and not one used
// since.
func TestJSContextsUsedLastAreKept(t *testing.T) {
	h := jsHost(t)
	script := `var calls = 0; function handler(w) { calls++; w.headers["x-calls"] = String(calls); return w }`
	calls := func(webhook string) string {
		t.Helper()
		out, err := jsRun(t, h, jsInput(webhook, script))
		if err != nil {
			t.Fatal(err)
		}
		return out.Request.Headers["x-calls"]
	}
	for i := range 64 {
		if got := calls(fmt.Sprint("wh", i)); got != "1" {
			t.Fatalf("wh%d's first call counted %s", i, got)
		}
	}
	if got := calls("wh0"); got != "2" {
		t.Fatalf("wh0's second call counted %s, want its context kept", got)
	}
	calls("wh64") // drops wh1, used longest ago
	if got := calls("wh0"); got != "3" {
		t.Errorf("wh0, used lately: %s calls, want its context kept (3)", got)
	}
	if got := calls("wh1"); got != "1" {
		t.Errorf("wh1, used longest ago: %s calls, want a new context (1)", got)
	}
}

func TestJSNoHandler(t *testing.T) {
	_, err := jsRun(t, jsHost(t), jsInput("wh1", `var x = 1`))
	if err == nil || !strings.Contains(err.Error(), "handler") {
		t.Fatalf("got %v", err)
	}
}

// TestJSEndlessLoopStops: a script that never returns fails its call at
// the time limit, and the next call works.
func TestJSEndlessLoopStops(t *testing.T) {
	h := jsHost(t)
	start := time.Now()
	_, err := jsRun(t, h, jsInput("wh1", `function handler(w) { for (;;) {} }`))
	if err == nil {
		t.Fatal("an endless loop returned")
	}
	t.Logf("stopped after %v: %v", time.Since(start), err)
	if out, err := jsRun(t, h, jsInput("wh1", `function handler(w) { return w }`)); err != nil || out.Skip {
		t.Errorf("the next call: %+v, %v", out, err)
	}
}

// TestJSHandlerSeesAndChangesURL: the handler gets the webhook's URL
// (abi.Input.URL) and may change it: a changed url is the output's URL (the
// hub checks it stays on the webhook's host); an unchanged one is no
// override; a url that is not a string is the script's error.
func TestJSHandlerSeesAndChangesURL(t *testing.T) {
	h := jsHost(t)
	in := jsInput("wh1", `function handler(w) {
  w.headers["x-seen-url"] = w.url;
  if (w.payload.data.email === "ada@example.com") w.url = w.url.replace("/hooks", "/v2/hooks") + "&id=7";
  return w;
}`)
	out, err := jsRun(t, h, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Request.Headers["x-seen-url"] != in.URL {
		t.Errorf("the handler saw url %q, want %q", out.Request.Headers["x-seen-url"], in.URL)
	}
	if want := "https://crm.example/v2/hooks?key=1&id=7"; out.URL != want {
		t.Errorf("output URL = %q, want %q", out.URL, want)
	}
	out, err = jsRun(t, h, jsInput("wh1", `function handler(w) { w.url = w.url; return w }`))
	if err != nil || out.URL != "" {
		t.Errorf("an unchanged url: %+v, %v; want no override", out, err)
	}
	_, err = jsRun(t, h, jsInput("wh1", `function handler(w) { w.url = 7; return w }`))
	if err == nil || !strings.Contains(err.Error(), "url") {
		t.Errorf("a url that is not a string: %v, want an error naming url", err)
	}
}
