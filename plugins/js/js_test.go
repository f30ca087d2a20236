package js_test

import (
	"strings"
	"testing"

	"github.com/hookhub/hookhub/plugins/js"
	"github.com/hookhub/hookhub/sdk/abi"
)

func input(webhook, script string) *abi.Input {
	return &abi.Input{
		Webhook: webhook,
		Config:  []byte(`{"script":` + quote(script) + `}`),
		Events:  [][]byte{[]byte(`{"specversion":"1.0","id":"e1","type":"contact.updated","data":{"email":"ada@example.com"}}`)},
		Request: abi.Request{ContentType: "application/json", Headers: map[string]string{"x-a": "1"},
			Body: []byte(`{"type":"contact.updated","data":{"email":"ada@example.com"}}`)},
	}
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func TestTransformRenamesAndAddsHeader(t *testing.T) {
	e := js.NewEngine()
	script := `function handler(w) {
  w.payload.data.mail = w.payload.data.email;
  delete w.payload.data.email;
  w.headers["x-event"] = w.eventType;
  return w;
}`
	out, err := e.Transform(input("wh1", script))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out.Request.Body), `{"type":"contact.updated","data":{"mail":"ada@example.com"}}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if out.Request.Headers["x-event"] != "contact.updated" || out.Request.Headers["x-a"] != "1" {
		t.Errorf("headers = %v", out.Request.Headers)
	}
}

func TestTransformNullSkips(t *testing.T) {
	out, err := js.NewEngine().Transform(input("wh1", `function handler(w) { return null }`))
	if err != nil || !out.Skip {
		t.Fatalf("got %+v, %v; want a skip", out, err)
	}
}

func TestSyntaxErrorLineColumn(t *testing.T) {
	err := js.NewEngine().Check([]byte(`{"script":"function handler(w) {\n  return w +;\n}"}`))
	if err == nil || !strings.Contains(err.Error(), "script:2:") || !strings.Contains(err.Error(), "SyntaxError") {
		t.Fatalf("got %v, want a SyntaxError at script:2:col", err)
	}
}

func TestRuntimeErrorLineColumn(t *testing.T) {
	_, err := js.NewEngine().Transform(input("wh1", "function handler(w) {\n  return w.nope.deeper;\n}"))
	if err == nil || !strings.Contains(err.Error(), "script:2:") || !strings.Contains(err.Error(), "TypeError") {
		t.Fatalf("got %v, want a TypeError at script:2:col", err)
	}
}

// TestWebhooksDoNotShareGlobals: two webhooks with the same script each get
// their own runtime, so one cannot read what the other left in a global.
func TestWebhooksDoNotShareGlobals(t *testing.T) {
	e := js.NewEngine()
	script := `var last; function handler(w) { var prev = last; last = w.payload.data.email; w.payload.prev = prev || null; return w }`
	if _, err := e.Transform(input("acme-wh", script)); err != nil {
		t.Fatal(err)
	}
	out, err := e.Transform(input("other-wh", script))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out.Request.Body), "ada@example.com\",\"prev\":\"ada") || !strings.Contains(string(out.Request.Body), `"prev":null`) {
		t.Errorf("the second webhook saw the first's data: %s", out.Request.Body)
	}
}

func TestNoHandler(t *testing.T) {
	_, err := js.NewEngine().Transform(input("wh1", `var x = 1`))
	if err == nil || !strings.Contains(err.Error(), "handler") {
		t.Fatalf("got %v", err)
	}
}

// TestHandlerSeesAndChangesURL: the handler gets the webhook's URL
// (abi.Input.URL) and may change it: a changed url is the output's URL (the
// hub checks it stays on the webhook's host); an unchanged one is no
// override; a url that is not a string is the script's error.
func TestHandlerSeesAndChangesURL(t *testing.T) {
	e := js.NewEngine()
	in := input("wh1", `function handler(w) {
  w.headers["x-seen-url"] = w.url;
  if (w.payload.data.email === "ada@example.com") w.url = w.url.replace("/hooks", "/v2/hooks") + "&id=7";
  return w;
}`)
	in.URL = "https://crm.example/hooks?key=1"
	out, err := e.Transform(in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Request.Headers["x-seen-url"] != in.URL {
		t.Errorf("the handler saw url %q, want %q", out.Request.Headers["x-seen-url"], in.URL)
	}
	if want := "https://crm.example/v2/hooks?key=1&id=7"; out.URL != want {
		t.Errorf("output URL = %q, want %q", out.URL, want)
	}

	out, err = e.Transform(input("wh1", `function handler(w) { w.url = w.url; return w }`))
	if err != nil || out.URL != "" {
		t.Errorf("an unchanged url: %+v, %v; want no override", out, err)
	}
	_, err = e.Transform(input("wh1", `function handler(w) { w.url = 7; return w }`))
	if err == nil || !strings.Contains(err.Error(), "url") {
		t.Errorf("a url that is not a string: %v, want an error naming url", err)
	}
}
