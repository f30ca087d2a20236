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
// x-secret).
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
// value (but the few plain ones), no URL query value, and no value of a
// plugin config field its schema marks writeOnly or x-secret; what it shows,
// sent back with PUT or beside a PATCH, keeps every hidden value.
func TestAPIMasksSecretShapedValues(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, fmt.Sprintf(`{"plugins":[{"name":"leaky","path":%q}]}`, leakyPlugin(t)))
	url := rc.URL + "/hook?token=" + urlToken + "&v=1"
	code, m, raw := a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_x","account":"acme","url":%q,"events":["*"],
	 "headers":{"X-Api-Key":%q,"X-Tenant":%q,"Accept":"application/json"},
	 "plugin":{"name":"leaky","config":{"api_key":%q,"auth":{"token":%q},"label":"shown-label"}}}`, url, hdrKey, tenant, plugKey, plugTok), apiToken)
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	secrets := []string{hdrKey, tenant, urlToken, plugKey, plugTok}
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
	if !strings.Contains(fmt.Sprint(shown["url"]), rc.URL+"/hook?token=") || !strings.Contains(string(raw), "shown-label") {
		t.Errorf("GET hides more than the secrets: url %v, body %s", shown["url"], raw)
	}

	kept := func(what string) {
		t.Helper()
		w := r.Snapshot().Get("wh_x")
		var cfg map[string]any
		_ = json.Unmarshal(w.Plugin.Config, &cfg)
		auth, _ := cfg["auth"].(map[string]any)
		if w.URL != url || w.Headers["X-Api-Key"] != hdrKey || w.Headers["X-Tenant"] != tenant || cfg["api_key"] != plugKey || auth["token"] != plugTok {
			t.Errorf("%s: a masked value was not kept: url %q, headers %v, plugin config %s", what, w.URL, w.Headers, w.Plugin.Config)
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
	if code, m = a.call("PATCH", "/v1/webhooks/wh_x", `{"name":"renamed","plugin":{"config":{"label":"new-label"}}}`); code != 200 {
		t.Fatalf("PATCH: %d %v", code, m)
	}
	kept("after PATCH")
	// A new value given replaces the old one.
	if code, m = a.call("PATCH", "/v1/webhooks/wh_x", `{"url":"`+rc.URL+`/hook?token=new-token-value&v=[redacted]","headers":{"X-Api-Key":"new-key-value"}}`); code != 200 {
		t.Fatalf("PATCH new values: %d %v", code, m)
	}
	if w := r.Snapshot().Get("wh_x"); w.URL != rc.URL+"/hook?token=new-token-value&v=1" || w.Headers["X-Api-Key"] != "new-key-value" || w.Headers["X-Tenant"] != tenant {
		t.Errorf("after PATCH of new values: url %q headers %v", w.URL, w.Headers)
	}
}

// TestSecretsScrubbedFromEchoesAndPluginErrors: what the hub keeps of a
// receiver's answer (the attempt log's excerpt, a test send's response) and
// of a plugin's error (the dead letter's reason, the attempt log's error, the
// log lines) never holds the webhook's secret values, though the receiver
// echoes the request's headers and URL and the plugin repeats its header and
// config.
func TestSecretsScrubbedFromEchoesAndPluginErrors(t *testing.T) {
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
	var logs lockedBuffer
	doc := fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,"log_level":"debug","plugins":[{"name":"leaky","path":%q}],"webhooks":[%s,%s]}`,
		apiToken, leakyPlugin(t),
		webhookJSON("echo", "acme", echo.URL+"/in?token="+urlToken, fmt.Sprintf(`"events":["*"],"retry":{"schedule":[]},
		 "headers":{"X-Api-Key":%q},"auth":{"type":"token","token":%q}`, hdrKey, bearer)),
		webhookJSON("leaky", "acme", echo.URL+"/leaky", fmt.Sprintf(`"events":["*"],"headers":{"X-Api-Key":%q},
		 "plugin":{"name":"leaky","config":{"api_key":%q,"auth":{"token":%q}}}`, hdrKey, plugKey, plugTok)))
	r := startHub(t, doc, nil, hub.WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	a := &api{t: t, base: r.APIURL(), doc: loadOpenAPI(t)}
	secrets := []string{hdrKey, urlToken, plugKey, plugTok, bearer}

	r.publish(t, contact("evt_echo"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 2, 20*time.Second)
	echo.WaitFor(t, 1, 10*time.Second)
	if got := echo.Requests()[0]; got.Header.Get("X-Api-Key") != hdrKey || !strings.Contains(got.Query, urlToken) {
		t.Fatalf("the receiver did not get the secrets it is owed: %v %s", got.Header, got.Query) // they go where they belong
	}

	var attempts []string
	hubtest.Eventually(t, 10*time.Second, "both attempt records", func() bool {
		attempts = attempts[:0]
		for _, id := range []string{"echo", "leaky"} {
			_, _, raw := a.do("GET", "/v1/webhooks/"+id+"/attempts", "", apiToken)
			if !strings.Contains(string(raw), `"dead"`) {
				return false
			}
			attempts = append(attempts, string(raw))
		}
		return true
	})
	if !strings.Contains(attempts[0], "you sent /in?token=") || !strings.Contains(attempts[0], "X-Api-Key: [redacted]") {
		t.Errorf("the echo's excerpt is not in the attempt log (the test looks at the wrong place): %s", attempts[0])
	}
	if leaked := hasAny(attempts[0], secrets...); len(leaked) > 0 {
		t.Errorf("the attempt log's excerpt holds %v: %s", leaked, attempts[0])
	}
	if !strings.Contains(attempts[1], "upstream refused") {
		t.Errorf("the plugin's error is not in the attempt log (the test looks at the wrong place): %s", attempts[1])
	}
	if leaked := hasAny(attempts[1], secrets...); len(leaked) > 0 {
		t.Errorf("the attempt log's plugin error holds %v: %s", leaked, attempts[1])
	}
	for _, m := range dl {
		reason := m.Headers().Get(bus.HeaderReason)
		if leaked := hasAny(reason, secrets...); len(leaked) > 0 {
			t.Errorf("the dead letter of %s holds %v: %s", m.Headers().Get(bus.HeaderWebhook), leaked, reason)
		}
		if m.Headers().Get(bus.HeaderWebhook) == "leaky" && !strings.Contains(reason, "upstream refused") {
			t.Errorf("the dead letter's reason lacks the plugin's error: %s", reason)
		}
	}
	_, _, dead := a.do("GET", "/v1/webhooks/leaky/dead-letters", "", apiToken)
	if leaked := hasAny(string(dead), secrets...); len(leaked) > 0 {
		t.Errorf("the dead letters API shows %v", leaked)
	}

	for _, id := range []string{"echo", "leaky"} {
		_, _, raw := a.do("POST", "/v1/webhooks/"+id+"/test", `{"event_type":"contact.updated"}`, apiToken)
		if leaked := hasAny(string(raw), secrets...); len(leaked) > 0 {
			t.Errorf("the test send of %s shows %v: %s", id, leaked, raw)
		}
	}
	if !strings.Contains(logs.String(), "upstream refused") {
		t.Fatalf("the logs lack the plugin's error this test needs:\n%s", logs.String())
	}
	if leaked := hasAny(logs.String(), secrets...); len(leaked) > 0 {
		t.Errorf("the logs hold %v:\n%s", leaked, logs.String())
	}
}
