package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// Secret-shaped values that are not of a declared secret type: a custom
// header's value, a token in the URL's query, a plugin config's secret
// fields.
const (
	hdrKey   = "hdr-api-key-0123456789"
	tenant   = "tenant-header-value"
	urlToken = "url-token-0123456789"
	plugKey  = "plugin-api-key-0123456789"
	plugTok  = "plugin-nested-token-0123"
	bearer   = "bearer-token-0123456789"
)

// leakyPlugin builds hub/testdata/leakyplugin: its errors repeat its
// X-Api-Key header and its config's secrets (api_key writeOnly, auth.token
// x-secret). The tests give it a generous time limit (it answers at once):
// starting it on a loaded machine is slow.
func leakyPlugin(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "leaky.wasm")
	if err := os.WriteFile(p, wasmtest.Build(t, "hub/testdata/leakyplugin"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func hasAny(s string, values ...string) []string {
	var out []string
	for _, v := range values {
		if strings.Contains(s, v) {
			out = append(out, v)
		}
	}
	return out
}

// TestAPIMasksSecretShapedValues: GET of a webhook shows no custom header
// value (but the few plain ones) and no URL query value; what it shows,
// sent back with PUT or beside a PATCH, keeps every hidden value, and a new
// value sent replaces the old.
func TestAPIMasksSecretShapedValues(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{}`)
	url := rc.URL + "/hook?token=" + urlToken + "&v=1"
	code, m, raw := a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_x","account":"acme","url":%q,"events":["*"],
	 "headers":{"X-Api-Key":%q,"X-Tenant":%q,"Accept":"application/json"}}`, url, hdrKey, tenant), apiToken)
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	secrets := []string{hdrKey, tenant, urlToken}
	if leaked := hasAny(string(raw), secrets...); len(leaked) > 0 {
		t.Errorf("the create answer shows %v: %s", leaked, raw)
	}
	_, shown, raw := a.do("GET", "/v1/webhooks/wh_x", "", apiToken)
	if leaked := hasAny(string(raw), secrets...); len(leaked) > 0 {
		t.Errorf("GET shows %v: %s", leaked, raw)
	}
	if _, _, list := a.do("GET", "/v1/webhooks?account=acme", "", apiToken); len(hasAny(string(list), secrets...)) > 0 {
		t.Errorf("the list shows %v", hasAny(string(list), secrets...))
	}
	h, _ := shown["headers"].(map[string]any)
	if h["Accept"] != "application/json" || h["X-Api-Key"] != "[redacted]" || h["X-Tenant"] != "[redacted]" {
		t.Errorf("headers shown: %v (want Accept in clear, the others masked)", h)
	}
	if shown["url"] != rc.URL+"/hook?token=[redacted]&v=[redacted]" {
		t.Errorf("url shown: %v", shown["url"])
	}

	kept := func(what string) {
		t.Helper()
		w := r.Snapshot().Get("wh_x")
		if w.URL != url || w.Headers["X-Api-Key"] != hdrKey || w.Headers["X-Tenant"] != tenant {
			t.Errorf("%s: a masked value was not kept: url %q, headers %v", what, w.URL, w.Headers)
		}
	}
	for _, k := range []string{"read_only", "disabled", "disabled_reason", "last_success", "failing_since", "previous_secrets"} {
		delete(shown, k)
	}
	back, _ := json.Marshal(shown)
	if code, m = a.call("PUT", "/v1/webhooks/wh_x", string(back)); code != 200 {
		t.Fatalf("PUT back what GET showed: %d %v", code, m)
	}
	kept("after PUT of what GET showed")
	if code, m = a.call("PATCH", "/v1/webhooks/wh_x", `{"name":"renamed","url":"`+rc.URL+`/hook?token=[redacted]&v=[redacted]"}`); code != 200 {
		t.Fatalf("PATCH: %d %v", code, m)
	}
	kept("after PATCH")
	if code, m = a.call("PATCH", "/v1/webhooks/wh_x", `{"url":"`+rc.URL+`/hook?token=new-token-value&v=[redacted]","headers":{"X-Api-Key":"new-key-value"}}`); code != 200 {
		t.Fatalf("PATCH new values: %d %v", code, m)
	}
	if w := r.Snapshot().Get("wh_x"); w.URL != rc.URL+"/hook?token=new-token-value&v=1" || w.Headers["X-Api-Key"] != "new-key-value" || w.Headers["X-Tenant"] != tenant {
		t.Errorf("after PATCH of new values: url %q headers %v", w.URL, w.Headers)
	}
}

// TestAPIMasksPluginSecretFields: GET of a webhook shows no value of a
// plugin config field the plugin's schema (exported by a WebAssembly
// plugin) marks writeOnly or x-secret, and shows the others; sent back with
// PUT, or beside a PATCH of another field, the hidden values are kept.
func TestAPIMasksPluginSecretFields(t *testing.T) {
	if raceDetector {
		t.Skip("starts a Go WebAssembly plugin: longer than hub.New's start bound under the race detector")
	}
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, fmt.Sprintf(`{"plugins":[{"name":"leaky","path":%q,"timeout_ms":30000}]}`, leakyPlugin(t)))
	code, _, raw := a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_p","account":"acme","url":%q,"events":["*"],
	 "plugin":{"name":"leaky","config":{"api_key":%q,"auth":{"token":%q},"label":"shown-label"}}}`, rc.URL, plugKey, plugTok), apiToken)
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	if leaked := hasAny(string(raw), plugKey, plugTok); len(leaked) > 0 {
		t.Errorf("the create answer shows %v: %s", leaked, raw)
	}
	_, shown, raw := a.do("GET", "/v1/webhooks/wh_p", "", apiToken)
	if leaked := hasAny(string(raw), plugKey, plugTok); len(leaked) > 0 {
		t.Errorf("GET shows %v: %s", leaked, raw)
	}
	if !strings.Contains(string(raw), `"config":{"api_key":"[redacted]","auth":{"token":"[redacted]"},"label":"shown-label"}`) {
		t.Errorf("GET shows the plugin config as: %s", raw)
	}
	kept := func(what, label string) {
		t.Helper()
		want := fmt.Sprintf(`{"api_key":%q,"auth":{"token":%q},"label":%q}`, plugKey, plugTok, label)
		if got := r.Snapshot().Get("wh_p").Plugin.Config; string(got) != want {
			t.Errorf("%s: plugin config %s, want %s", what, got, want)
		}
	}
	for _, k := range []string{"read_only", "disabled", "disabled_reason", "last_success", "failing_since", "previous_secrets"} {
		delete(shown, k)
	}
	back, _ := json.Marshal(shown)
	if code, m := a.call("PUT", "/v1/webhooks/wh_p", string(back)); code != 200 {
		t.Fatalf("PUT back what GET showed: %d %v", code, m)
	}
	kept("after PUT of what GET showed", "shown-label")
	if code, m := a.call("PATCH", "/v1/webhooks/wh_p", `{"plugin":{"config":{"label":"new-label"}}}`); code != 200 {
		t.Fatalf("PATCH: %d %v", code, m)
	}
	kept("after PATCH", "new-label")
}

// echoReceiver answers 400 with the request's URL and headers in its body,
// as some receivers' error pages do.
func echoReceiver(t *testing.T) *hubtest.Receiver {
	echo := hubtest.NewReceiver(t)
	echo.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vs := range r.Header {
			lines = append(lines, k+": "+strings.Join(vs, ","))
		}
		sort.Strings(lines)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "you sent %s\n%s\n", r.URL.RequestURI(), strings.Join(lines, "\n"))
	})
	return echo
}

// startLoggedHub runs a hub with its API and returns its client, logging at
// debug level into logs.
func startLoggedHub(t *testing.T, logs *lockedBuffer, doc string) (*running, *api) {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	m["api_addr"], m["api_token"], m["log_level"] = "127.0.0.1:0", apiToken, "debug"
	raw, _ := json.Marshal(m)
	r := startHub(t, string(raw), nil, hub.WithLogger(zerolog.New(logs).Level(zerolog.DebugLevel)))
	return r, &api{t: t, base: r.APIURL(), doc: loadOpenAPI(t)}
}

// deadAttempts waits for the dead attempt record of webhook id and returns
// the attempt log's answer.
func deadAttempts(t *testing.T, a *api, id string) string {
	var out string
	hubtest.Eventually(t, 10*time.Second, "the dead attempt of "+id, func() bool {
		_, _, raw := a.do("GET", "/v1/webhooks/"+id+"/attempts", "", apiToken)
		out = string(raw)
		return strings.Contains(out, `"dead"`)
	})
	return out
}

// TestSecretsScrubbedFromEchoes: a receiver that echoes the request's URL
// and headers in its answer puts none of the webhook's secrets (a custom
// header, the URL's token, the bearer token) into the attempt log's excerpt
// or a test send's answer, though the receiver did get them.
func TestSecretsScrubbedFromEchoes(t *testing.T) {
	echo := echoReceiver(t)
	var logs lockedBuffer
	r, a := startLoggedHub(t, &logs, fmt.Sprintf(`{"webhooks":[%s]}`,
		webhookJSON("echo", "acme", echo.URL+"/in?token="+urlToken, fmt.Sprintf(`"events":["*"],"retry":{"schedule":[]},
		 "headers":{"X-Api-Key":%q},"auth":{"type":"token","token":%q}`, hdrKey, bearer))))
	secrets := []string{hdrKey, urlToken, bearer}

	r.publish(t, contact("evt_echo"))
	echo.WaitFor(t, 1, 10*time.Second)
	if got := echo.Requests()[0]; got.Header.Get("X-Api-Key") != hdrKey || !strings.Contains(got.Query, urlToken) {
		t.Fatalf("the receiver did not get the secrets it is owed: %v %s", got.Header, got.Query) // they go where they belong
	}
	attempts := deadAttempts(t, a, "echo")
	if !strings.Contains(attempts, "you sent /in?token=") || !strings.Contains(attempts, "X-Api-Key: [redacted]") {
		t.Errorf("the echo's excerpt is not in the attempt log (the test looks at the wrong place): %s", attempts)
	}
	if leaked := hasAny(attempts, secrets...); len(leaked) > 0 {
		t.Errorf("the attempt log's excerpt holds %v: %s", leaked, attempts)
	}
	_, _, raw := a.do("POST", "/v1/webhooks/echo/test", `{"event_type":"contact.updated"}`, apiToken)
	if !strings.Contains(string(raw), "you sent") {
		t.Errorf("the test send's answer lacks the echo: %s", raw)
	}
	if leaked := hasAny(string(raw), secrets...); len(leaked) > 0 {
		t.Errorf("the test send's answer shows %v: %s", leaked, raw)
	}
	if leaked := hasAny(logs.String(), secrets...); len(leaked) > 0 {
		t.Errorf("the logs hold %v:\n%s", leaked, logs.String())
	}
}

// TestSecretsScrubbedFromPluginErrors: a plugin whose error text repeats
// the webhook's custom header and its config's secret fields puts none of
// them into the dead letter, the attempt log, a test send's answer or the
// log lines; its error still shows there, scrubbed.
func TestSecretsScrubbedFromPluginErrors(t *testing.T) {
	if raceDetector {
		t.Skip("starts a Go WebAssembly plugin: longer than hub.New's start bound under the race detector")
	}
	rc := hubtest.NewReceiver(t)
	var logs lockedBuffer
	r, a := startLoggedHub(t, &logs, fmt.Sprintf(`{"plugins":[{"name":"leaky","path":%q,"timeout_ms":30000}],"webhooks":[%s]}`, leakyPlugin(t),
		webhookJSON("leaky", "acme", rc.URL+"/leaky", fmt.Sprintf(`"events":["*"],"headers":{"X-Api-Key":%q},
		 "plugin":{"name":"leaky","config":{"api_key":%q,"auth":{"token":%q}}}`, hdrKey, plugKey, plugTok))))
	secrets := []string{hdrKey, plugKey, plugTok}

	r.publish(t, contact("evt_leaky"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 20*time.Second)
	reason := dl[0].Headers().Get(bus.HeaderReason)
	if !strings.Contains(reason, "upstream refused X-Api-Key [redacted], api_key [redacted], token [redacted]") {
		t.Errorf("the dead letter's reason: %s", reason)
	}
	if leaked := hasAny(reason, secrets...); len(leaked) > 0 {
		t.Errorf("the dead letter holds %v: %s", leaked, reason)
	}
	attempts := deadAttempts(t, a, "leaky")
	if !strings.Contains(attempts, "upstream refused") {
		t.Errorf("the plugin's error is not in the attempt log (the test looks at the wrong place): %s", attempts)
	}
	if leaked := hasAny(attempts, secrets...); len(leaked) > 0 {
		t.Errorf("the attempt log holds %v: %s", leaked, attempts)
	}
	for _, path := range []string{"/v1/webhooks/leaky/dead-letters", "/v1/events/evt_leaky/attempts"} {
		if _, _, raw := a.do("GET", path, "", apiToken); len(hasAny(string(raw), secrets...)) > 0 {
			t.Errorf("%s shows %v", path, hasAny(string(raw), secrets...))
		}
	}
	_, _, raw := a.do("POST", "/v1/webhooks/leaky/test", `{"event_type":"contact.updated"}`, apiToken)
	if !strings.Contains(string(raw), "upstream refused") || len(hasAny(string(raw), secrets...)) > 0 {
		t.Errorf("the test send's answer: %s", raw)
	}
	if !strings.Contains(logs.String(), "upstream refused") {
		t.Fatalf("the logs lack the plugin's error this test needs:\n%s", logs.String())
	}
	if leaked := hasAny(logs.String(), secrets...); len(leaked) > 0 {
		t.Errorf("the logs hold %v:\n%s", leaked, logs.String())
	}
}
