package hub_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
)

// Tests of the routes the web console needs (issue 12): an event by id, a
// plugin preview of an event, accounts with their usage, a test send with a
// payload of one's own.

// Secret values of the console tests' webhooks: none may appear in an answer.
const (
	consoleKey   = "key-secret-0123456789"
	consolePass  = "basic-pass-0123456789"
	consoleQuery = "query-secret-0123456789"
)

func noSecretIn(t *testing.T, what string, raw []byte) {
	t.Helper()
	for _, s := range []string{consoleKey, consolePass, consoleQuery, testSecret, base64.StdEncoding.EncodeToString([]byte("u:" + consolePass))} {
		if strings.Contains(string(raw), s) {
			t.Errorf("%s shows the secret %q: %s", what, s, raw)
		}
	}
}

func field(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// TestAPIEventByID: an event the archive keeps is answered by id and
// account; without an account the API token is told which parameter it
// needs; an id not kept is 404.
func TestAPIEventByID(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"accounts":[{"id":"acme","api_token":"`+acmeToken+`"}],"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["contact.*"]`)+`]}`)
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r.publish(t, &event.Event{ID: "evt_get", Type: "contact.updated", Account: "acme", Initiator: "api", Lists: "12", Time: &when,
		Data: json.RawMessage(`{"email":"ada@example.com"}`)})
	rc.WaitFor(t, 1, 10*time.Second)

	code, m := a.call("GET", "/v1/events/evt_get?account=acme", "")
	ev, _ := m["event"].(map[string]any)
	data, _ := ev["data"].(map[string]any)
	if code != 200 || m["id"] != "evt_get" || m["account"] != "acme" || m["type"] != "contact.updated" || m["stored"] == nil ||
		ev["lists"] != "12" || ev["time"] != "2026-11-22T10:00:00Z" || data["email"] != "ada@example.com" {
		t.Errorf("get event: %d %v", code, m)
	}
	if code, m := a.call("GET", "/v1/events/evt_get", ""); code != 400 || field(m) != "account" {
		t.Errorf("get event without account, API token: %d %v, want 400 naming account", code, m)
	}
	if code, m, _ := a.do("GET", "/v1/events/evt_get", "", acmeToken); code != 200 || m["id"] != "evt_get" {
		t.Errorf("get event, acme's token, its own account by default: %d %v", code, m)
	}
	if code, m := a.call("GET", "/v1/events/evt_never?account=acme", ""); code != 404 || errCode(m) != "not_found" {
		t.Errorf("an event never published: %d %v", code, m)
	}
	if code, m := a.call("GET", "/v1/events/evt_get?account=globex", ""); code != 404 {
		t.Errorf("the id under another account: %d %v", code, m)
	}
}

// TestAPIPreview: the preview of an event is the request a delivery of it
// sends (the same body, signed so that a receiver verifies it), plugin and
// all, with credentials masked, and it sends nothing.
func TestAPIPreview(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	creds := fmt.Sprintf(`"auth":{"type":"basic","username":"u","password":%q},"headers":{"X-Api-Key":%q,"X-Team":"blue"}`, consolePass, consoleKey)
	_, a := startAPIHub(t, `{"webhooks":[`+
		webhookJSON("plain", "acme", rc.URL+"/plain?token="+consoleQuery, `"events":["contact.*"],`+creds)+","+
		webhookJSON("pro", "acme", rc.URL+"/pro", `"events":["contact.*"],"plugin":{"name":"mapper","config":{"filter":{"field":"data.attributes.PLAN","equals":"pro"},"pick":["type","data.email"],"rename":{"data.email":"email"}}}`)+`]}`)
	if code, m := a.call("POST", "/v1/events", `{"id":"evt_pre","type":"contact.updated","source":"crm","account":"acme","time":"2026-11-22T10:00:00Z",`+
		`"data":{"email":"ada@example.com","attributes":{"PLAN":"pro"}}}`); code != 202 {
		t.Fatalf("publish: %d %v", code, m)
	}
	delivered := map[string]hubtest.Request{}
	for _, q := range rc.WaitFor(t, 2, 10*time.Second) {
		delivered[q.Path] = q
	}

	for _, wh := range []string{"plain", "pro"} {
		code, m, raw := a.do("POST", "/v1/webhooks/"+wh+"/preview", `{"event_id":"evt_pre"}`, apiToken)
		req, _ := m["request"].(map[string]any)
		if code != 200 || m["skipped"] != false || m["matches"] != true || m["event_id"] != "evt_pre" || req == nil {
			t.Fatalf("preview %s: %d %s", wh, code, raw)
		}
		noSecretIn(t, "preview "+wh, raw)
		got := delivered["/"+wh]
		if req["method"] != "POST" || req["body"] != string(got.Body) {
			t.Errorf("preview %s: %v %q; the delivery sent %s", wh, req["method"], req["body"], got.Body)
		}
		// It is the request itself: signed over that body, as a receiver
		// checks it (the signature headers are shown as they are).
		h := http.Header{}
		for k, vs := range req["headers"].(map[string]any) {
			for _, v := range vs.([]any) {
				h.Add(k, v.(string))
			}
		}
		verifier, _ := standardwebhooks.NewWebhook(testSecret)
		if err := verifier.Verify([]byte(req["body"].(string)), h); err != nil || h.Get("webhook-id") != "evt_pre:"+wh {
			t.Errorf("preview %s: the request does not verify (%v) or has webhook-id %q", wh, err, h.Get("webhook-id"))
		}
		if wh == "plain" {
			if h.Get("Authorization") != "Basic [redacted]" || h.Get("X-Api-Key") != "[redacted]" || h.Get("X-Team") != "[redacted]" ||
				req["url"] != rc.URL+"/plain?token=[redacted]" {
				t.Errorf("preview plain: credentials not masked as the API masks them: %v %v", req["url"], h)
			}
		}
	}
	// The mapper's filter drops a free plan's event: skipped.
	code, m, raw := a.do("POST", "/v1/webhooks/pro/preview", `{"event":{"type":"contact.created","data":{"email":"bob@example.com","attributes":{"PLAN":"free"}}}}`, apiToken)
	if code != 200 || m["skipped"] != true || m["request"] != nil {
		t.Errorf("preview of a filtered event: %d %s", code, raw)
	}
	// An event given whole is read as the router reads events.
	code, m, raw = a.do("POST", "/v1/webhooks/pro/preview", `{"event":{"id":"given","type":"contact.created","data":{"email":"eve@example.com","attributes":{"PLAN":"pro"}}}}`, apiToken)
	if req, _ := m["request"].(map[string]any); code != 200 || m["event_id"] != "given" || req == nil || req["body"] != `{"email":"eve@example.com","type":"contact.created"}` {
		t.Errorf("preview of an event given whole: %d %s", code, raw)
	}
	// An event the webhook does not take (email.*, not contact.*): shown, and said so.
	code, m, raw = a.do("POST", "/v1/webhooks/pro/preview", `{"event":{"type":"email.clicked","data":{"email":"eve@example.com","attributes":{"PLAN":"pro"}}}}`, apiToken)
	if code != 200 || m["matches"] != false || m["request"] == nil {
		t.Errorf("preview of an event the webhook does not take: %d %s", code, raw)
	}
	for _, c := range []struct{ body, field string }{
		{`{"event":{"type":"contact.created","account":"globex","data":{"email":"eve@example.com"}}}`, "event.account"},
		{`{"event":{"type":"contact.created","data":{"email":42}}}`, "event.data.email"},
		{`{"event":{"type":"Not A Type","data":{}}}`, "event.type"},
		{`{"event":{"type":"hookhub.webhook.disabled","data":{}}}`, "event.type"},
		{`{}`, "event_id"},
		{`{"event_id":"evt_pre","event":{"type":"contact.created"}}`, "event_id"},
	} {
		if code, m := a.call("POST", "/v1/webhooks/pro/preview", c.body); code != 400 || field(m) != c.field {
			t.Errorf("preview %s: %d %v, want 400 naming %s", c.body, code, m, c.field)
		}
	}
	if code, m := a.call("POST", "/v1/webhooks/pro/preview", `{"event_id":"evt_never"}`); code != 404 {
		t.Errorf("preview of an event not kept: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/webhooks/nope/preview", `{"event_id":"evt_pre"}`); code != 404 {
		t.Errorf("preview for no webhook: %d %v", code, m)
	}
	// Nothing was sent.
	time.Sleep(200 * time.Millisecond)
	if n := rc.Count(); n != 2 {
		t.Errorf("the receiver got %d requests, want the 2 deliveries only: previews send nothing", n)
	}
}

// TestAPIAccounts: each account with its webhooks against its limit, and
// in which state; an account's token sees its own.
func TestAPIAccounts(t *testing.T) {
	rc, gone := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	gone.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	r, a := startAPIHub(t, `{"accounts":[{"id":"acme","webhook_limit":3,"api_token":"`+acmeToken+`"},{"id":"globex","api_token":"`+globexToken+`"},{"id":"quiet"}],"webhooks":[`+
		webhookJSON("a1", "acme", gone.URL, `"events":["*"]`)+","+webhookJSON("a2", "acme", rc.URL, `"events":["*"],"active":false`)+`]}`)
	if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"a3","account":"acme","url":%q,"events":["*"]}`, rc.URL)); code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"i1","account":"initech","url":%q,"events":["*"]}`, rc.URL)); code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	// a1's receiver answers 410 Gone: the hub disables it.
	r.publish(t, contact("evt_gone"))
	hubtest.Eventually(t, 10*time.Second, "a1 disabled", func() bool {
		_, m := a.call("GET", "/v1/webhooks/a1", "")
		return m["disabled"] == true
	})
	want := map[string]string{
		"acme":    "configured=true webhooks=3 webhook_limit=3 active=2 inactive=1 disabled=1 from_config=2",
		"globex":  "configured=true webhooks=0 webhook_limit=40 active=0 inactive=0 disabled=0 from_config=0",
		"quiet":   "configured=true webhooks=0 webhook_limit=40 active=0 inactive=0 disabled=0 from_config=0",
		"initech": "configured=false webhooks=1 webhook_limit=40 active=1 inactive=0 disabled=0 from_config=0",
	}
	show := func(m map[string]any) string {
		return fmt.Sprintf("configured=%v webhooks=%v webhook_limit=%v active=%v inactive=%v disabled=%v from_config=%v",
			m["configured"], m["webhooks"], m["webhook_limit"], m["active"], m["inactive"], m["disabled"], m["from_config"])
	}
	code, m := a.call("GET", "/v1/accounts", "")
	list, _ := m["data"].([]any)
	if code != 200 || len(list) != len(want) {
		t.Fatalf("accounts: %d %v", code, m)
	}
	for i, id := range []string{"acme", "globex", "initech", "quiet"} {
		acct := list[i].(map[string]any)
		if acct["id"] != id || show(acct) != want[id] {
			t.Errorf("accounts[%d]: %v, want %s %s", i, acct, id, want[id])
		}
	}
	if code, m := a.call("GET", "/v1/accounts/acme", ""); code != 200 || show(m) != want["acme"] {
		t.Errorf("account acme: %d %v", code, m)
	}
	if code, m := a.call("GET", "/v1/accounts/nobody", ""); code != 404 || errCode(m) != "not_found" {
		t.Errorf("an account that is nowhere: %d %v", code, m)
	}
	code, m, _ = a.do("GET", "/v1/accounts", "", acmeToken)
	if list, _ := m["data"].([]any); code != 200 || len(list) != 1 || show(list[0].(map[string]any)) != want["acme"] {
		t.Errorf("accounts, acme's token: %d %v", code, m)
	}
	if code, m, _ := a.do("GET", "/v1/accounts/acme", "", acmeToken); code != 200 || show(m) != want["acme"] {
		t.Errorf("account acme, acme's token: %d %v", code, m)
	}
}

// TestAPITestSendWithData: a test send carries the data given (checked
// against its type's schema, naming the field at fault) or a whole event,
// and shows the request sent, masked, and the receiver's answer.
func TestAPITestSendWithData(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("queued as job 7"))
	})
	creds := fmt.Sprintf(`"auth":{"type":"basic","username":"u","password":%q},"headers":{"X-Api-Key":%q}`, consolePass, consoleKey)
	_, a := startAPIHub(t, `{"event_types":[{"type":"custom.thing","schema":{"type":"object"},"sample":{"n":0}}],"webhooks":[`+
		webhookJSON("wh", "acme", rc.URL+"/t?token="+consoleQuery, `"events":["*"],`+creds)+`]}`)

	code, m, raw := a.do("POST", "/v1/webhooks/wh/test", `{"event_type":"contact.updated","data":{"email":"custom@example.com","attributes":{"PLAN":"gold"}}}`, apiToken)
	noSecretIn(t, "test send", raw)
	got := rc.Requests()[rc.Count()-1]
	var sent struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(got.Body, &sent)
	if code != 200 || m["delivered"] != true || m["status"] != float64(202) || m["response"] != "queued as job 7" || m["latency_ms"] == nil {
		t.Errorf("test send: %d %s", code, raw)
	}
	if sent.Type != "contact.updated" || sent.Data["email"] != "custom@example.com" || got.Header.Get("Hookhub-Test") != "true" {
		t.Errorf("the receiver got %s %v, want the data given", got.Body, got.Header)
	}
	req, _ := m["request"].(map[string]any)
	if req == nil || req["method"] != "POST" || req["body"] != string(got.Body) || req["url"] != rc.URL+"/t?token=[redacted]" {
		t.Fatalf("test send's request: %s; the receiver got %s", raw, got.Body)
	}
	hs, _ := req["headers"].(map[string]any)
	if fmt.Sprint(hs["Authorization"]) != "[Basic [redacted]]" || fmt.Sprint(hs["X-Api-Key"]) != "[[redacted]]" ||
		fmt.Sprint(hs["Webhook-Id"]) != "["+got.Header.Get("webhook-id")+"]" || !strings.HasPrefix(got.Header.Get("webhook-id"), m["event_id"].(string)+":") {
		t.Errorf("test send's request headers: %v; the receiver got %v", hs, got.Header)
	}

	// A whole event: its id, type and data as given.
	code, m, raw = a.do("POST", "/v1/webhooks/wh/test", `{"event":{"id":"my_evt","type":"email.clicked","initiator":"contact","data":{"email":"ada@example.com","link":"https://example.com/x"}}}`, apiToken)
	got = rc.Requests()[rc.Count()-1]
	if code != 200 || m["event_id"] != "my_evt" || m["delivered"] != true || got.Header.Get("webhook-id") != "my_evt:wh" || !strings.Contains(string(got.Body), `"link":"https://example.com/x"`) {
		t.Errorf("test send of a whole event: %d %s; the receiver got %s", code, raw, got.Body)
	}
	// A declared type takes data of its schema, or its sample; a type
	// neither built in nor declared is refused, with or without data.
	for _, body := range []string{`{"event_type":"custom.thing","data":{"n":1}}`, `{"event_type":"custom.thing"}`} {
		if code, m := a.call("POST", "/v1/webhooks/wh/test", body); code != 200 || m["delivered"] != true {
			t.Errorf("test send of a declared type %s: %d %v", body, code, m)
		}
	}
	n := rc.Count()
	for _, c := range []struct{ body, field string }{
		{`{"event_type":"contact.updated","data":{"email":42}}`, "data.email"},
		{`{"event_type":"contact.updated","data":{}}`, "data"},
		{`{"event_type":"contact.updated","data":[1]}`, "data"},
		{`{"data":{"email":"a@example.com"}}`, "event_type"},
		{`{"event_type":"hookhub.webhook.disabled","data":{}}`, "event_type"},
		{`{"event_type":"custom.other"}`, "event_type"},
		{`{"event_type":"custom.other","data":{"n":1}}`, "event_type"},
		{`{"event":{"type":"contact.updated","account":"globex","data":{"email":"a@example.com"}}}`, "event.account"},
		{`{"event":{"type":"contact.updated","data":{"email":false}}}`, "event.data.email"},
		{`{"event_type":"email.clicked","event":{"type":"contact.updated","data":{"email":"a@example.com"}}}`, "event_type"},
		{`{"data":{"email":"a@example.com"},"event":{"type":"contact.updated"}}`, "data"},
	} {
		code, m := a.call("POST", "/v1/webhooks/wh/test", c.body)
		if code != 400 || !strings.HasPrefix(field(m), c.field) {
			t.Errorf("test send %s: %d %v, want 400 naming %s", c.body, code, m, c.field)
		}
		if msg := fmt.Sprint(m["error"]); !strings.Contains(msg, c.field) {
			t.Errorf("test send %s: the message does not name %s: %v", c.body, c.field, msg)
		}
	}
	if rc.Count() != n {
		t.Errorf("refused test sends reached the receiver: %d requests, want %d", rc.Count(), n)
	}
}

// TestAPIConsoleRoutesKeepToTheirAccount: another account's token meets
// the console's routes as it meets the others: another account's event,
// webhook and account are absent (the same answer as ones that do not
// exist), and its list of accounts is its own.
func TestAPIConsoleRoutesKeepToTheirAccount(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"accounts":[{"id":"acme","api_token":"`+acmeToken+`"},{"id":"globex","api_token":"`+globexToken+`"}],"webhooks":[`+
		webhookJSON("acme_wh", "acme", rc.URL, `"events":["*"]`)+","+webhookJSON("globex_wh", "globex", rc.URL, `"events":["email.*"]`)+`]}`)
	r.publish(t, contact("evt_acme"))
	rc.WaitFor(t, 1, 10*time.Second)
	as := func(tok, method, path, body string) (int, map[string]any) {
		code, m, _ := a.do(method, path, body, tok)
		return code, m
	}
	same := func(what string, code int, m map[string]any, absentCode int, absent map[string]any, name, absentName string) {
		t.Helper()
		if code != 404 || code != absentCode || strings.ReplaceAll(fmt.Sprint(m), name, "X") != strings.ReplaceAll(fmt.Sprint(absent), absentName, "X") {
			t.Errorf("globex %s: %d %v; for one that does not exist: %d %v", what, code, m, absentCode, absent)
		}
	}
	// acme itself reads all of it.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/events/evt_acme", ""},
		{"POST", "/v1/webhooks/acme_wh/preview", `{"event_id":"evt_acme"}`},
		{"POST", "/v1/webhooks/acme_wh/test", `{"event_type":"contact.updated","data":{"email":"a@example.com"}}`},
		{"GET", "/v1/accounts/acme", ""},
	} {
		if code, m := as(acmeToken, c.method, c.path, c.body); code != 200 {
			t.Errorf("acme %s %s: %d %v", c.method, c.path, code, m)
		}
	}
	sends := rc.Count()

	for _, q := range []string{"", "?account=acme"} {
		code, m := as(globexToken, "GET", "/v1/events/evt_acme"+q, "")
		ac, am := as(globexToken, "GET", "/v1/events/evt_never"+q, "")
		same("reads acme's event"+q, code, m, ac, am, "evt_acme", "evt_never")
	}
	for _, path := range []string{"/preview", "/test"} {
		body := map[string]string{"/preview": `{"event_id":"evt_acme"}`, "/test": `{"event_type":"contact.updated","data":{"email":"a@example.com"}}`}[path]
		code, m := as(globexToken, "POST", "/v1/webhooks/acme_wh"+path, body)
		ac, am := as(globexToken, "POST", "/v1/webhooks/no_such_wh"+path, body)
		same("on acme's webhook "+path, code, m, ac, am, "acme_wh", "no_such_wh")
	}
	// globex's own webhook cannot preview acme's event: ids are per account.
	code, m := as(globexToken, "POST", "/v1/webhooks/globex_wh/preview", `{"event_id":"evt_acme"}`)
	ac, am := as(globexToken, "POST", "/v1/webhooks/globex_wh/preview", `{"event_id":"evt_never"}`)
	same("previews acme's event on its own webhook", code, m, ac, am, "evt_acme", "evt_never")
	if code, m := as(globexToken, "POST", "/v1/webhooks/globex_wh/test", `{"event":{"type":"email.clicked","account":"acme","data":{"email":"a@example.com"}}}`); code != 400 || field(m) != "event.account" {
		t.Errorf("globex test-sends an event of acme: %d %v", code, m)
	}
	code, m = as(globexToken, "GET", "/v1/accounts/acme", "")
	ac, am = as(globexToken, "GET", "/v1/accounts/nobody", "")
	same("reads account acme", code, m, ac, am, "acme", "nobody")
	if code, m := as(globexToken, "GET", "/v1/accounts", ""); code != 200 || len(m["data"].([]any)) != 1 || m["data"].([]any)[0].(map[string]any)["id"] != "globex" {
		t.Errorf("globex lists accounts: %d %v", code, m)
	}
	if rc.Count() != sends {
		t.Errorf("globex's requests reached acme's receiver: %d requests, want %d", rc.Count(), sends)
	}
}
