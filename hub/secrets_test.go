package hub_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/signature"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestSecretsNeverShow runs a hub with every kind of secret, at debug log
// level, through deliveries that succeed, fail, retry and die, and through
// the API, then looks for each secret in every log line and API answer.
func TestSecretsNeverShow(t *testing.T) {
	secrets := map[string]string{
		"WH_SECRET":   "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==",
		"WH_PASSWORD": "pa55-w0rd-that-must-not-leak",
		"WH_TOKEN":    "bearer-token-that-must-not-leak",
		"WH_APIKEY":   "x-api-key-that-must-not-leak",
		"API_TOKEN":   "api-token-that-must-not-leak",
		"ACME_TOKEN":  "acme-token-that-must-not-leak",
		"WH_CLIENT":   "oauth2-client-secret-that-must-not-leak",
		"ISSUED":      "oauth2-access-token-that-must-not-leak", // not in the config: the token endpoint's answer
	}
	sk, _ := signature.NewSigningKey()
	secrets["SIGNING_KEY"] = sk.Reveal()
	secrets["SIGNING_SEED"] = strings.TrimPrefix(sk.Reveal(), "whsk_") // not in the config: the key without its prefix
	tokens := newTokenServer(t, "hub-client", secrets["WH_CLIENT"], func(int) string { return secrets["ISSUED"] })
	ok := hubtest.NewReceiver(t)
	bad := hubtest.NewReceiver(t)
	bad.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	})
	doc := `{"data_dir":"` + t.TempDir() + `","nats_listen":"127.0.0.1:-1","api_addr":"127.0.0.1:0","api_token":"${env:API_TOKEN}",
	 "log_level":"debug","log_format":"json",
	 "accounts":[{"id":"acme","api_token":"${env:ACME_TOKEN}","signing_keys":["${env:SIGNING_KEY}"]}],
	 "delivery":{"allow_insecure_targets":true,"ca_file":"` + tokens.CAFile(t) + `"},
	 "webhooks":[
	  {"id":"basic","account":"acme","url":"` + ok.URL + `","events":["*"],"secret":"${env:WH_SECRET}",
	   "auth":{"type":"basic","username":"hub","password":"${env:WH_PASSWORD}"},"headers":{"X-Api-Key":"${env:WH_APIKEY}"},
	   "signatures":["v1","v1a"]},
	  {"id":"failing","account":"acme","url":"` + bad.URL + `","events":["*"],"secret":"${env:WH_SECRET}",
	   "auth":{"type":"token","token":"${env:WH_TOKEN}"},"retry":{"schedule":["1s"],"jitter":0}},
	  {"id":"oauth","account":"acme","url":"` + bad.URL + `","events":["*"],"secret":"${env:WH_SECRET}",
	   "auth":{"type":"oauth2","token_url":"` + tokens.URL + `","client_id":"hub-client","client_secret":"${env:WH_CLIENT}"},
	   "retry":{"schedule":["1s"],"jitter":0}}]}`
	cfg, err := config.Parse("secrets.json", []byte(doc), secrets)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	h, err := hub.New(cfg, hub.WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done; _ = h.Close() }()

	r := &running{Hub: h}
	r.pub = publishTo(h)
	r.publish(t, contact("evt_s1"))
	ok.WaitFor(t, 1, 10*time.Second)
	if got := ok.Requests()[0].Header.Get("X-Api-Key"); got != secrets["WH_APIKEY"] {
		t.Fatalf("the receiver did not get the custom header: %q", got) // the secret does go where it belongs
	}
	r.waitStream(t, streamName("hookhub", "DLQ"), 2, 20*time.Second)
	carried := false // the token does go where it belongs
	for _, rq := range bad.Requests() {
		carried = carried || rq.Header.Get("Authorization") == "Bearer "+secrets["ISSUED"]
	}
	if !carried {
		t.Fatalf("no request carried the OAuth2 token")
	}

	var answers bytes.Buffer
	get := func(method, path, token, body string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, h.APIURL()+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers.Write(b)
	}
	hubtest.Eventually(t, 5*time.Second, "attempt records", func() bool {
		var b bytes.Buffer
		req, _ := http.NewRequest("GET", h.APIURL()+"/v1/webhooks/failing/attempts", nil)
		req.Header.Set("Authorization", "Bearer "+secrets["API_TOKEN"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		return strings.Contains(b.String(), `"dead"`)
	})
	for _, p := range []string{"/v1/webhooks", "/v1/webhooks/basic", "/v1/webhooks/failing", "/v1/webhooks/basic/attempts",
		"/v1/webhooks/failing/attempts", "/v1/webhooks/failing/dead-letters", "/v1/webhooks/oauth", "/v1/webhooks/oauth/attempts", "/v1/accounts/acme/jwks.json", "/v1/webhooks/basic/stats", "/metrics", "/v1/events/evt_s1/attempts"} {
		get("GET", p, secrets["API_TOKEN"], "")
		get("GET", p, secrets["ACME_TOKEN"], "")
	}
	get("POST", "/v1/webhooks/basic/test", secrets["API_TOKEN"], `{"event_type":"contact.created"}`)
	get("GET", "/v1/webhooks/basic/attempts", secrets["API_TOKEN"], "") // now with the test send's record
	get("POST", "/v1/webhooks", secrets["API_TOKEN"], `{"account":"acme","url":"ftp://bad","events":["*"],"secret":"`+secrets["WH_SECRET"]+`x"}`)

	if !strings.Contains(answers.String(), `"Authorization":["Basic [redacted]"]`) {
		t.Errorf("the attempt log does not show the masked Authorization header: the test looks at the wrong place")
	}
	all := logs.String() + answers.String()
	if !strings.Contains(logs.String(), "delivery failed for good") {
		t.Fatalf("the logs lack the failure lines this test needs:\n%s", logs.String())
	}
	for name, s := range secrets {
		if strings.Contains(all, s) {
			i := strings.Index(all, s)
			t.Errorf("secret %s shows: ...%s...", name, all[max(0, i-80):min(len(all), i+len(s)+20)])
		}
	}
}
