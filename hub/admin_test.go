package hub_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/admin"
	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/schemas"
)

const apiToken = "t0ken-for-the-tests"

// api is a client of a running hub's management API that checks every
// answer against the OpenAPI document.
type api struct {
	t    *testing.T
	base string
	doc  *openAPI
}

func (a *api) do(method, path, body string, token string) (int, map[string]any, []byte) {
	a.t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	code, m, _, raw := a.exchange(req{method: method, path: path, body: body, header: h})
	if code < 300 && body != "" {
		a.doc.checkRequest(a.t, method, path, []byte(body))
	}
	return code, m, raw
}

// routesHit records the routes the tests exercised; TestMain checks that
// every route was.
var routesHit sync.Map

// pluginWorker makes this test binary serve as a plugin worker process when
// a hub under test starts it as one, with the arguments of hookhub's own
// worker (workers get an empty environment, so the arguments say it).
var pluginWorker = hub.WithPluginWorker(os.Args[0], "plugin", "worker")

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "plugin" && os.Args[2] == "worker" {
		if err := pluginhost.ServeWorker(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var missing []string
		for _, r := range admin.Routes {
			if _, ok := routesHit.Load(r); !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			fmt.Println("API routes no test exercised:", missing)
			code = 1
		}
	}
	os.Exit(code)
}

func (a *api) call(method, path, body string) (int, map[string]any) {
	a.t.Helper()
	code, m, _ := a.do(method, path, body, apiToken)
	return code, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func startAPIHub(t *testing.T, doc string) (*running, *api) {
	t.Helper()
	var m map[string]any
	_ = json.Unmarshal([]byte(doc), &m)
	m["api_addr"], m["api_token"] = "127.0.0.1:0", apiToken
	raw, _ := json.Marshal(m)
	r := startHub(t, string(raw), nil)
	return r, &api{t: t, base: r.APIURL(), doc: loadOpenAPI(t)}
}

func TestAPIWebhooks(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"delivery":{"egress_ranges":["203.0.113.0/28"]},"accounts":[{"id":"small","webhook_limit":1}],"webhooks":[`+webhookJSON("from_file", "acme", rc.URL+"/file", `"events":["email.*"]`)+`]}`)

	// The egress ranges are public.
	if code, m, _ := a.do("GET", "/ip-ranges", "", ""); code != 200 || fmt.Sprint(m["egress_ranges"]) != "[203.0.113.0/28]" {
		t.Errorf("ip-ranges: %d %v", code, m)
	}
	// Auth.
	if code, m, _ := a.do("GET", "/v1/webhooks", "", ""); code != 401 || errCode(m) != "unauthorized" {
		t.Errorf("no token: %d %v", code, m)
	}
	if code, _, _ := a.do("GET", "/v1/webhooks", "", "wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}

	// Create: the secret is generated and shown once.
	code, created := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_api","account":"acme","url":%q,"events":["contact.*"]}`, rc.URL+"/api"))
	secret, _ := created["secret"].(string)
	if code != 201 || !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("create: %d %v", code, created)
	}
	if _, got := a.call("GET", "/v1/webhooks/wh_api", ""); got["secret"] == secret || !strings.Contains(got["secret"].(string), "...") {
		t.Errorf("the secret is shown again in full: %v", got["secret"])
	}
	// It receives an event published right after.
	r.publish(t, contact("evt_api1"))
	req := rc.WaitFor(t, 1, 10*time.Second)[0]
	if req.Path != "/api" {
		t.Errorf("delivered to %s", req.Path)
	}

	// Validation names the field; policy and schema alike.
	code, m := a.call("POST", "/v1/webhooks", `{"account":"acme","url":"ftp://x.example.com","events":["contact.*"]}`)
	if code != 400 || errCode(m) != "validation_failed" || !strings.Contains(fmt.Sprint(m), "url") {
		t.Errorf("bad url: %d %v", code, m)
	}
	code, m = a.call("POST", "/v1/webhooks", `{"account":"acme","url":"https://x.example.com","events":["Not A Type"],"colour":"red"}`)
	if code != 400 || len(m["error"].(map[string]any)["details"].([]any)) < 2 {
		t.Errorf("schema errors, all at once: %d %v", code, m)
	}
	if code, m = a.call("POST", "/v1/webhooks", `{not json`); code != 400 || errCode(m) != "invalid_json" {
		t.Errorf("bad JSON: %d %v", code, m)
	}
	if code, m = a.call("POST", "/v1/webhooks", `{"account":"acme","url":"https://x.example.com","events":["*"],"plugin":{"name":"mapper","config":{"nope":1}}}`); code != 400 || !strings.Contains(fmt.Sprint(m), "plugin") {
		t.Errorf("bad plugin config: %d %v", code, m)
	}

	// The account limit.
	if code, _ = a.call("POST", "/v1/webhooks", `{"account":"small","url":"https://a.example.com","events":["*"]}`); code != 201 {
		t.Fatalf("first of small: %d", code)
	}
	if code, m = a.call("POST", "/v1/webhooks", `{"account":"small","url":"https://b.example.com","events":["*"]}`); code != 422 || errCode(m) != "webhook_limit" {
		t.Errorf("over the limit: %d %v", code, m)
	}

	// Config-file webhooks are read-only.
	if code, m = a.call("DELETE", "/v1/webhooks/from_file", ""); code != 409 || errCode(m) != "read_only" {
		t.Errorf("delete read-only: %d %v", code, m)
	}
	if _, m = a.call("GET", "/v1/webhooks/from_file", ""); m["read_only"] != true {
		t.Errorf("from_file: %v", m)
	}

	// Update keeps the secret; deactivate stops deliveries; delete.
	code, m = a.call("PUT", "/v1/webhooks/wh_api", fmt.Sprintf(`{"account":"acme","url":%q,"events":["contact.*","deal.*"],"name":"renamed"}`, rc.URL+"/api"))
	if code != 200 || m["name"] != "renamed" {
		t.Errorf("update: %d %v", code, m)
	}
	if code, m = a.call("POST", "/v1/webhooks/wh_api/deactivate", ""); code != 200 || m["active"] != false {
		t.Errorf("deactivate: %d %v", code, m)
	}
	r.publish(t, contact("evt_api2"))
	time.Sleep(500 * time.Millisecond)
	if n := rc.Count(); n != 1 {
		t.Errorf("an inactive webhook got %d requests", n-1)
	}
	if code, _ = a.call("POST", "/v1/webhooks/wh_api/activate", ""); code != 200 {
		t.Errorf("activate: %d", code)
	}
	r.publish(t, contact("evt_api3"))
	reqs := rc.WaitFor(t, 2, 10*time.Second)
	if reqs[1].Header.Get("webhook-id") != "evt_api3:wh_api" {
		t.Errorf("after activate: %s", reqs[1].Header.Get("webhook-id"))
	}
	if code, _ = a.call("DELETE", "/v1/webhooks/wh_api", ""); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, m = a.call("GET", "/v1/webhooks/wh_api", ""); code != 404 || errCode(m) != "not_found" {
		t.Errorf("get deleted: %d %v", code, m)
	}
}

// TestAPILiveOnSecondHub: a webhook created through one hub's API reaches a
// second hub process sharing its NATS within a second.
func TestAPILiveOnSecondHub(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	first, a := startAPIHub(t, `{}`)
	second := hubtest.StartHub(t, fmt.Sprintf(`{"nats_url":%q}`, first.NATSURL()), nil)
	if code, _ := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_live","account":"acme","url":%q,"events":["*"]}`, rc.URL)); code != 201 {
		t.Fatal("create failed")
	}
	if first.Snapshot().Get("wh_live") == nil {
		t.Error("the hub that answered 201 does not route to the webhook yet")
	}
	hubtest.Eventually(t, time.Second, "the second hub to see the new webhook", func() bool {
		return second.Snapshot().Get("wh_live") != nil
	})
}

// TestAPITwoHubsOneID: two hubs' APIs asked at the same moment to create one
// id: one creates it, the other answers 409, and the secret shown is the one
// that signs. A change through either reaches the other within a second.
func TestAPITwoHubsOneID(t *testing.T) {
	first, a := startAPIHub(t, `{}`)
	_, b := startAPIHub(t, fmt.Sprintf(`{"nats_url":%q}`, first.NATSURL()))
	body := `{"id":"wh_race","account":"acme","url":"https://x.example.com/","events":["*"]}`
	type answer struct {
		code int
		m    map[string]any
	}
	answers := make(chan answer, 2)
	for _, c := range []*api{a, b} {
		go func() {
			code, m, _ := c.do("POST", "/v1/webhooks", body, apiToken)
			answers <- answer{code, m}
		}()
	}
	var created []string
	for range 2 {
		switch an := <-answers; an.code {
		case 201:
			created = append(created, an.m["secret"].(string))
		case 409:
			if errCode(an.m) != "exists" {
				t.Errorf("the loser: %v", an.m)
			}
		default:
			t.Errorf("create: %d %v", an.code, an.m)
		}
	}
	if len(created) != 1 {
		t.Fatalf("%d hubs created wh_race, want 1", len(created))
	}
	hubtest.Eventually(t, time.Second, "both hubs to hold the secret shown", func() bool {
		for _, h := range []*api{a, b} {
			_, m, _ := h.do("GET", "/v1/webhooks/wh_race", "", apiToken)
			s, _ := m["secret"].(string)
			if !strings.HasSuffix(created[0], strings.TrimPrefix(s, "whsec_...")) {
				return false
			}
		}
		return first.Snapshot().Get("wh_race").Secret.Reveal() == created[0]
	})
	if code, _ := b.call("POST", "/v1/webhooks/wh_race/deactivate", ""); code != 200 {
		t.Fatalf("deactivate through the second hub: %d", code)
	}
	hubtest.Eventually(t, time.Second, "the first hub to see the deactivation", func() bool {
		return !first.Snapshot().Get("wh_race").IsActive()
	})
}

// TestAPIWebhookLimitDefault: an account holds 40 webhooks unless the config
// says otherwise; the 41st is refused with a code and a message that says so.
func TestAPIWebhookLimitDefault(t *testing.T) {
	_, a := startAPIHub(t, `{}`)
	for i := range 40 {
		if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"account":"acme","url":"https://x%d.example.com/","events":["*"]}`, i)); code != 201 {
			t.Fatalf("webhook %d: %d %v", i+1, code, m)
		}
	}
	code, m := a.call("POST", "/v1/webhooks", `{"account":"acme","url":"https://x41.example.com/","events":["*"]}`)
	e, _ := m["error"].(map[string]any)
	if code != 422 || errCode(m) != "webhook_limit" || e["field"] != "account" || !strings.Contains(fmt.Sprint(e["message"]), "limit") {
		t.Errorf("41st webhook: %d %v", code, m)
	}
	if code, _ := a.call("POST", "/v1/webhooks", `{"account":"other","url":"https://x.example.com/","events":["*"]}`); code != 201 {
		t.Errorf("another account is not limited by acme's webhooks: %d", code)
	}
	// Validation errors name the field at fault.
	for field, body := range map[string]string{
		"url":       `{"account":"acme","url":"ftp://x.example.com","events":["*"]}`,
		"events[0]": `{"account":"acme","url":"https://x.example.com","events":["Not A Type"]}`,
		"secret":    `{"account":"acme","url":"https://x.example.com","events":["*"],"secret":"nope"}`,
	} {
		code, m := a.call("POST", "/v1/webhooks", body)
		e, _ := m["error"].(map[string]any)
		if code != 400 || errCode(m) != "validation_failed" || e["field"] != field {
			t.Errorf("%s: got %d %v, want 400 naming field %q", body, code, m, field)
		}
	}
}

// TestAPIEventsDeadLettersAttempts: events in through the API, the catalog,
// the attempt log newest first, and a dead letter redriven and delivered.
func TestAPIEventsDeadLettersAttempts(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	var failing atomic.Bool
	failing.Store(true)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	})
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["*"],"retry":{"schedule":[]}`)+`]}`)
	_ = r
	if code, m := a.call("GET", "/v1/event-types?category=contact", ""); code != 200 || len(m["data"].([]any)) < 8 {
		t.Errorf("catalog: %d %v", code, m)
	}
	if code, m := a.call("GET", "/v1/event-types/email.clicked", ""); code != 200 || m["sample"] == nil || m["schema"] == nil {
		t.Errorf("type: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/events", `{"type":"contact.updated","source":"api-test","data":{"email":"a@example.com"}}`); code != 400 || errCode(m) != "invalid_event" || m["error"].(map[string]any)["field"] != "account" {
		t.Errorf("event without account: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/events", `{"type":"email.clicked","source":"api-test","account":"acme","data":{"email":42}}`); code != 400 || !strings.Contains(fmt.Sprint(m), "does not match the schema of email.clicked") {
		t.Errorf("event with bad data: %d %v", code, m)
	}
	if code, _, _ := a.do("GET", "/healthz", "", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, _, raw := a.do("GET", "/openapi.json", "", ""); code != 200 || !bytes.Contains(raw, []byte(`"openapi": "3.1.0"`)) {
		t.Errorf("openapi.json: %d", code)
	}
	for i := range 2 {
		code, m := a.call("POST", "/v1/events", fmt.Sprintf(`{"id":"evt_d%d","type":"contact.updated","source":"api-test","account":"acme","data":{"email":"a@example.com"}}`, i))
		if code != 202 || m["id"] != fmt.Sprintf("evt_d%d", i) {
			t.Fatalf("post event: %d %v", code, m)
		}
	}
	hubtest.Eventually(t, 10*time.Second, "two dead letters", func() bool {
		_, m := a.call("GET", "/v1/webhooks/wh/dead-letters", "")
		return len(m["data"].([]any)) == 2
	})
	var atts []any
	hubtest.Eventually(t, 5*time.Second, "two dead attempts in the log (records are written asynchronously)", func() bool {
		_, m := a.call("GET", "/v1/webhooks/wh/attempts?outcome=dead", "")
		atts, _ = m["data"].([]any)
		return len(atts) == 2
	})
	if len(atts) != 2 || atts[0].(map[string]any)["seq"].(float64) < atts[1].(map[string]any)["seq"].(float64) {
		t.Errorf("attempts, newest first: %v", atts)
	}
	_, m := a.call("GET", "/v1/webhooks/wh/dead-letters?limit=1", "")
	first := m["data"].([]any)[0].(map[string]any)
	if first["reason"] == "" || first["attempts"].(float64) != 1 || first["event"] == nil {
		t.Errorf("dead letter: %v", first)
	}
	failing.Store(false)
	seq := int(first["seq"].(float64))
	if code, m := a.call("POST", fmt.Sprintf("/v1/dead-letters/%d/redrive", seq), ""); code != 202 || m["redriven"].(float64) != 1 {
		t.Errorf("redrive one: %d %v", code, m)
	}
	if code, _ := a.call("GET", fmt.Sprintf("/v1/dead-letters/%d", seq), ""); code != 404 {
		t.Errorf("a redriven dead letter is still there: %d", code)
	}
	_, m = a.call("GET", "/v1/webhooks/wh/dead-letters", "")
	other := int(m["data"].([]any)[0].(map[string]any)["seq"].(float64))
	if code, m := a.call("GET", fmt.Sprintf("/v1/dead-letters/%d", other), ""); code != 200 || m["webhook"] != "wh" {
		t.Errorf("inspect a dead letter: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/webhooks/wh/dead-letters/redrive?since=2000-01-01T00:00:00Z", ""); code != 202 || m["redriven"].(float64) != 1 {
		t.Errorf("redrive all: %d %v", code, m)
	}
	hubtest.Eventually(t, 10*time.Second, "both redriven events delivered", func() bool {
		n := 0
		for _, q := range rc.Requests() {
			if bytes.Contains(q.Body, []byte("a@example.com")) {
				n++
			}
		}
		return n >= 4 // 2 failed + 2 redriven
	})
	if code, m := a.call("GET", "/v1/webhooks/wh/attempts?limit=abc", ""); code != 400 || errCode(m) != "bad_parameter" {
		t.Errorf("bad limit: %d %v", code, m)
	}
}

// TestAPIRefusesOpenAddressWithoutToken: no token, no API beyond loopback.
func TestAPIRefusesOpenAddressWithoutToken(t *testing.T) {
	cfgDoc := `{"api_addr":"0.0.0.0:0","nats_listen":"none","data_dir":"` + t.TempDir() + `"}`
	cfg := mustConfig(t, cfgDoc)
	if _, err := hub.New(cfg); err == nil || !strings.Contains(err.Error(), "without a token") {
		t.Errorf("got %v", err)
	}
}

// openAPI checks that routes and answers match schemas/openapi.json.
type openAPI struct {
	mu       sync.Mutex // the compiler is not safe for concurrent use
	doc      map[string]any
	compiler *jsonschema.Compiler
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(schemas.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	for _, name := range []string{"config.schema.json", "event.schema.json"} {
		b, _ := schemas.FS.ReadFile(name)
		d, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		_ = c.AddResource(schemas.BaseURL+name, d)
	}
	od, _ := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.OpenAPI()))
	_ = c.AddResource("https://hookhub.dev/openapi.json", od)
	return &openAPI{doc: doc, compiler: c}
}

// template finds the documented path for a concrete one.
func (o *openAPI) template(path string) string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for p := range o.doc["paths"].(map[string]any) {
		ps := strings.Split(p, "/")
		if len(ps) != len(segs) {
			continue
		}
		ok := true
		for i := range ps {
			if ps[i] != segs[i] && !strings.HasPrefix(ps[i], "{") {
				ok = false
			}
		}
		if ok {
			return p
		}
	}
	return ""
}

func (o *openAPI) check(t *testing.T, method, path string, status int, body []byte) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.template(path)
	op, _ := o.doc["paths"].(map[string]any)[p].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if op == nil {
		t.Errorf("%s %s is not in openapi.json", method, path)
		return
	}
	r, _ := op["responses"].(map[string]any)[fmt.Sprint(status)].(map[string]any)
	if r == nil {
		t.Errorf("%s %s answered %d, which openapi.json does not list", method, p, status)
		return
	}
	if len(body) == 0 {
		return
	}
	ptr := "#/paths/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(p) + "/" + strings.ToLower(method) + "/responses/" + fmt.Sprint(status) + "/content/application~1json/schema"
	if ref, _ := r["$ref"].(string); ref != "" {
		ptr = ref + "/content/application~1json/schema"
	}
	sch, err := o.compiler.Compile("https://hookhub.dev/openapi.json" + ptr)
	if err != nil {
		return // a response without a body schema
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s %s: answer is not JSON: %s", method, p, body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s %s %d: answer does not match openapi.json: %v", method, p, status, err)
	}
}

// checkRequest validates a request body the API accepted against the
// document's requestBody schema.
func (o *openAPI) checkRequest(t *testing.T, method, path string, body []byte) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.template(path)
	ptr := "#/paths/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(p) + "/" + strings.ToLower(method) + "/requestBody/content/application~1json/schema"
	sch, err := o.compiler.Compile("https://hookhub.dev/openapi.json" + ptr)
	if err != nil {
		t.Errorf("%s %s accepted a body, but openapi.json documents none", method, p)
		return
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s %s accepted a body its openapi.json schema refuses: %v", method, p, err)
	}
}

// TestOpenAPICoversEveryRoute: each route the API registers is documented.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	_, _ = startAPIHub(t, `{}`)
	o := loadOpenAPI(t)
	if len(admin.Routes) < 10 {
		t.Fatalf("only %d routes registered", len(admin.Routes))
	}
	for _, route := range admin.Routes {
		method, path, _ := strings.Cut(route, " ")
		op := o.doc["paths"].(map[string]any)[path]
		if op == nil || op.(map[string]any)[strings.ToLower(method)] == nil {
			t.Errorf("%s is not in schemas/openapi.json", route)
		}
	}
}

// TestAPIRotationAndTestSend: after a rotation both secrets verify during the
// grace period; a test send goes through the real path, marked, and reports.
func TestAPIRotationAndTestSend(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{}`)
	code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_rot","account":"acme","url":%q,"events":["*"]}`, rc.URL))
	if code != 201 {
		t.Fatal(m)
	}
	oldSecret := m["secret"].(string)
	code, m = a.call("POST", "/v1/webhooks/wh_rot/rotate-secret", "")
	newSecret, _ := m["secret"].(string)
	if code != 200 || newSecret == oldSecret || !strings.HasPrefix(newSecret, "whsec_") {
		t.Fatalf("rotate: %d %v", code, m)
	}
	hubtest.Eventually(t, time.Second, "the new secret in the snapshot", func() bool { return r.Snapshot().Get("wh_rot").Secret.Reveal() == newSecret })
	r.publish(t, contact("evt_rot"))
	req := rc.WaitFor(t, 1, 10*time.Second)[0]
	if sigs := strings.Fields(req.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Errorf("during the grace period want two signatures, got %q", req.Header.Get("webhook-signature"))
	}
	for _, sec := range []string{oldSecret, newSecret} {
		wh, _ := standardwebhooks.NewWebhook(sec)
		if err := wh.Verify(req.Body, req.Header); err != nil {
			t.Errorf("a receiver with the %s secret cannot verify: %v", map[bool]string{true: "old", false: "new"}[sec == oldSecret], err)
		}
	}

	code, m = a.call("POST", "/v1/webhooks/wh_rot/test", `{"event_type":"email.clicked"}`)
	if code != 200 || m["delivered"] != true || m["status"].(float64) != 200 {
		t.Errorf("test send: %d %v", code, m)
	}
	last := rc.Requests()[rc.Count()-1]
	if last.Header.Get("Hookhub-Test") != "true" || !strings.Contains(string(last.Body), `"type":"email.clicked"`) {
		t.Errorf("test request: %v %s", last.Header, last.Body)
	}
	if code, m = a.call("POST", "/v1/webhooks/wh_rot/test", `{"event_type":"nope.nope"}`); code != 400 || errCode(m) != "unknown_event_type" {
		t.Errorf("unknown type: %d %v", code, m)
	}
}

// TestAPIAccountTokens: a token of one account sees and changes that
// account's data only; another account's webhooks do not even exist for it.
func TestAPIAccountTokens(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	_, a := startAPIHub(t, `{"accounts":[{"id":"acme","api_token":"acme-token-for-tests"},{"id":"globex","api_token":"globex-token-for-tests"}],"webhooks":[`+
		webhookJSON("acme_wh", "acme", rc.URL, `"events":["*"]`)+","+webhookJSON("globex_wh", "globex", rc.URL, `"events":["*"]`)+`]}`)
	as := func(tok, method, path, body string) (int, map[string]any) {
		code, m, _ := a.do(method, path, body, tok)
		return code, m
	}
	code, m := as("acme-token-for-tests", "GET", "/v1/webhooks", "")
	if code != 200 || len(m["data"].([]any)) != 1 || m["data"].([]any)[0].(map[string]any)["id"] != "acme_wh" {
		t.Errorf("acme lists: %d %v", code, m)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/webhooks/globex_wh", ""},
		{"GET", "/v1/webhooks/globex_wh/attempts", ""},
		{"GET", "/v1/webhooks/globex_wh/dead-letters", ""},
		{"GET", "/v1/webhooks/globex_wh/stats", ""},
		{"POST", "/v1/webhooks/globex_wh/test", `{"event_type":"email.clicked"}`},
		{"POST", "/v1/webhooks/globex_wh/resend", `{"event_id":"x"}`},
		{"DELETE", "/v1/webhooks/globex_wh", ""},
	} {
		if code, m := as("acme-token-for-tests", c.method, c.path, c.body); code != 404 {
			t.Errorf("acme's token on %s %s: %d %v, want 404", c.method, c.path, code, m)
		}
	}
	if code, m = as("acme-token-for-tests", "GET", "/v1/webhooks?account=globex", ""); code != 403 || errCode(m) != "forbidden" {
		t.Errorf("acme lists globex: %d %v", code, m)
	}
	if code, m = as("acme-token-for-tests", "POST", "/v1/webhooks", `{"account":"globex","url":"https://x.example.com","events":["*"]}`); code != 403 {
		t.Errorf("acme creates for globex: %d %v", code, m)
	}
	if code, m = as("acme-token-for-tests", "POST", "/v1/webhooks", `{"url":"https://x.example.com","events":["*"]}`); code != 201 || m["account"] != "acme" {
		t.Errorf("acme creates without naming its account: %d %v", code, m)
	}
	if code, m = as("acme-token-for-tests", "POST", "/v1/events", `{"type":"contact.updated","source":"s","account":"globex","data":{"email":"a@example.com"}}`); code != 403 {
		t.Errorf("acme publishes for globex: %d %v", code, m)
	}
	if code, _ = as("nobody", "GET", "/v1/webhooks", ""); code != 401 {
		t.Errorf("unknown token: %d", code)
	}
	if code, m = as(apiToken, "GET", "/v1/webhooks", ""); code != 200 || len(m["data"].([]any)) != 3 {
		t.Errorf("the API token sees all: %d %v", code, m)
	}
}

// TestAPIResendAndStats: a delivered event is sent again on request, under
// the same webhook-id; the stats count what happened.
func TestAPIResendAndStats(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["*"]`)+`]}`)
	r.publish(t, contact("evt_again"))
	rc.WaitFor(t, 1, 10*time.Second)
	if code, m := a.call("POST", "/v1/webhooks/wh/resend", `{"event_id":"evt_again"}`); code != 202 || m["job"] != "evt_again:wh" {
		t.Fatalf("resend: %d %v", code, m)
	}
	reqs := rc.WaitFor(t, 2, 10*time.Second)
	if reqs[1].Header.Get("webhook-id") != "evt_again:wh" || string(reqs[1].Body) != string(reqs[0].Body) {
		t.Errorf("resent request differs: %s %s", reqs[1].Header.Get("webhook-id"), reqs[1].Body)
	}
	if code, m := a.call("POST", "/v1/webhooks/wh/resend", `{"event_id":"never_published"}`); code != 404 {
		t.Errorf("resend unknown: %d %v", code, m)
	}
	hubtest.Eventually(t, 5*time.Second, "two deliveries in the stats", func() bool {
		_, m := a.call("GET", "/v1/webhooks/wh/stats", "")
		return m["delivered"] == float64(2) && m["last_success"] != nil && m["pending_jobs"] == float64(0)
	})
	if code, m := a.call("GET", "/v1/webhooks/wh/attempts?since=2999-01-01T00:00:00Z", ""); code != 200 || len(m["data"].([]any)) != 0 {
		t.Errorf("attempts since the future: %d %v", code, m)
	}
	if code, m := a.call("GET", "/v1/events/evt_again/attempts", ""); code != 200 || len(m["data"].([]any)) != 2 {
		t.Errorf("one event's attempts: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/webhooks/wh/enable", ""); code != 200 || m["id"] != "wh" {
		t.Errorf("enable: %d %v", code, m)
	}
}

// TestMetrics: /metrics counts events, deliveries and what waits.
func TestMetrics(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"accounts":[{"id":"acme","api_token":"acme-token-for-tests"}],"webhooks":[`+
		webhookJSON("wh", "acme", rc.URL, `"events":["*"],"plugin":{"name":"passthrough"}`)+`]}`)
	r.publish(t, contact("evt_m1"))
	rc.WaitFor(t, 1, 10*time.Second)
	want := []string{
		`hookhub_events_total{outcome="routed",type="contact.updated"} 1`,
		`hookhub_deliveries_total{outcome="delivered",status_class="2xx"} 1`,
		`hookhub_delivery_duration_seconds_count 1`,
		`hookhub_plugin_duration_seconds_count{plugin="passthrough"} 1`,
		`hookhub_dead_letters 0`,
		`hookhub_pending_retries 0`,
		`hookhub_log_index_records 1`, // the attempt record of evt_m1
	}
	hubtest.Eventually(t, 5*time.Second, "the metrics", func() bool {
		code, _, raw := a.do("GET", "/metrics", "", apiToken)
		for _, w := range want {
			if code != 200 || !strings.Contains(string(raw), w) {
				return false
			}
		}
		return true
	})
	if code, _, _ := a.do("GET", "/metrics", "", "acme-token-for-tests"); code != 403 {
		t.Errorf("an account token reads every account's metrics: %d", code)
	}
}

// TestAPIPatchAndMaskedValues: PATCH changes the fields it names and keeps
// the rest; values shown masked and sent back (PUT or PATCH) keep their value;
// a field that merely says "secret" does not change the signing secret.
func TestAPIPatchAndMaskedValues(t *testing.T) {
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("from_file", "acme", "https://x.example.com/", `"events":["*"]`)+`]}`)
	const pw, key = "s3cret-pa55", "k3y-value"
	code, created := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_p","account":"acme","url":"https://x.example.com/","events":["contact.*"],
		"name":"first","description":"to drop","secret":%q,"auth":{"type":"basic","username":"u","password":%q},"headers":{"X-Api-Key":%q,"X-Plain":"p"}}`, testSecret, pw, key))
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	kept := func(what string) {
		t.Helper()
		wh := r.Snapshot().Get("wh_p")
		if wh.Secret.Reveal() != testSecret || wh.Auth.Password.Reveal() != pw || wh.Headers["X-Api-Key"] != key {
			t.Errorf("%s: a masked value was not kept: secret %v, password %v, header %q", what, wh.Secret.Reveal() == testSecret, wh.Auth.Password.Reveal() == pw, wh.Headers["X-Api-Key"])
		}
	}

	code, m := a.call("PATCH", "/v1/webhooks/wh_p", `{"name":"second","description":null,"events":["contact.*","deal.*"]}`)
	if code != 200 || m["name"] != "second" || m["description"] != nil || fmt.Sprint(m["events"]) != "[contact.* deal.*]" || m["url"] != "https://x.example.com/" {
		t.Errorf("patch: %d %v", code, m)
	}
	kept("after PATCH")

	// What GET shows, sent back with PUT, changes nothing it masks.
	_, shown := a.call("GET", "/v1/webhooks/wh_p", "")
	for _, k := range []string{"read_only", "disabled", "disabled_reason", "last_success", "failing_since", "previous_secrets"} {
		delete(shown, k)
	}
	shown["name"] = "secret" // a value that says "secret" is not a new secret
	back, _ := json.Marshal(shown)
	if code, m = a.call("PUT", "/v1/webhooks/wh_p", string(back)); code != 200 || m["name"] != "secret" {
		t.Errorf("put back what GET showed: %d %v", code, m)
	}
	kept("after PUT of the masked values")

	// A new secret given replaces it.
	const next = "whsec_bmV4dG5leHRuZXh0bmV4dG5leHRuZXh0bmV4dA=="
	if code, m = a.call("PATCH", "/v1/webhooks/wh_p", `{"secret":"`+next+`"}`); code != 200 || r.Snapshot().Get("wh_p").Secret.Reveal() != next {
		t.Errorf("patch a new secret: %d %v", code, m)
	}
	// Validation names the field; read-only and bad bodies are refused.
	if code, m = a.call("PATCH", "/v1/webhooks/wh_p", `{"url":"ftp://x.example.com"}`); code != 400 || m["error"].(map[string]any)["field"] != "url" {
		t.Errorf("patch a bad url: %d %v", code, m)
	}
	if code, m = a.call("PATCH", "/v1/webhooks/wh_p", `{"account":"other"}`); code != 400 || errCode(m) != "account_change" {
		t.Errorf("patch the account: %d %v", code, m)
	}
	if code, m = a.call("PATCH", "/v1/webhooks/wh_p", `[1]`); code != 400 || errCode(m) != "invalid_json" {
		t.Errorf("patch with an array: %d %v", code, m)
	}
	if code, m = a.call("PATCH", "/v1/webhooks/from_file", `{"name":"x"}`); code != 409 || errCode(m) != "read_only" {
		t.Errorf("patch a config-file webhook: %d %v", code, m)
	}
	if code, m = a.call("PATCH", "/v1/webhooks/nope", `{"name":"x"}`); code != 404 || errCode(m) != "not_found" {
		t.Errorf("patch an unknown webhook: %d %v", code, m)
	}
}

// TestAPILimitUnderConcurrentCreates: many creates at once through two hubs
// never take an account past its limit.
func TestAPILimitUnderConcurrentCreates(t *testing.T) {
	first, a := startAPIHub(t, `{"accounts":[{"id":"acme","webhook_limit":5}]}`)
	second := hubtest.StartHub(t, fmt.Sprintf(`{"nats_url":%q,"api_addr":"127.0.0.1:0","api_token":%q,"accounts":[{"id":"acme","webhook_limit":5}]}`, first.NATSURL(), apiToken), nil)
	b := &api{t: t, base: second.APIURL(), doc: a.doc}
	var wg sync.WaitGroup
	var created atomic.Int64
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a
			if i%2 == 1 {
				c = b
			}
			if code, _, _ := c.do("POST", "/v1/webhooks", `{"account":"acme","url":"https://x.example.com","events":["*"]}`, apiToken); code == 201 {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	hubtest.Eventually(t, 2*time.Second, "both hubs to agree", func() bool {
		return len(first.Snapshot().Account("acme")) == len(second.Snapshot().Account("acme"))
	})
	if n := len(first.Snapshot().Account("acme")); n > 5 || int64(n) != created.Load() {
		t.Errorf("%d webhooks exist, %d creates answered 201; the limit is 5", n, created.Load())
	}
}
