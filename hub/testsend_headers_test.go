package hub_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestAPITestSendResponseHeaders: a test send's answer carries the
// receiver's response headers (response_headers), bounded in number and
// size, with its Set-Cookie masked and the webhook's secret values, echoed
// back by the receiver, scrubbed.
func TestAPITestSendResponseHeaders(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Receiver-Trace", "trace-77")
		w.Header().Set("Set-Cookie", "rsession=cookie-secret-77")
		w.Header().Set("X-Echo-Key", r.Header.Get("X-Api-Key"))
		w.Header().Set("X-Long", strings.Repeat("x", 5000))
		for i := range 60 {
			w.Header().Set(fmt.Sprintf("X-Zpad-%02d", i), "p")
		}
		w.WriteHeader(http.StatusCreated)
	})
	_, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["*"],"headers":{"X-Api-Key":"`+consoleKey+`"}`)+`]}`)
	code, m, raw := a.do("POST", "/v1/webhooks/wh/test", `{"event_type":"contact.updated"}`, apiToken)
	noSecretIn(t, "test send", raw)
	if strings.Contains(string(raw), "cookie-secret-77") {
		t.Errorf("the answer shows the receiver's cookie: %s", raw)
	}
	rh, _ := m["response_headers"].(map[string]any)
	if code != 200 || m["status"] != float64(201) || rh == nil {
		t.Fatalf("test send: %d %s", code, raw)
	}
	first := func(k string) string {
		vs, _ := rh[k].([]any)
		if len(vs) == 0 {
			return ""
		}
		s, _ := vs[0].(string)
		return s
	}
	if first("X-Receiver-Trace") != "trace-77" || first("Set-Cookie") != "[redacted]" || first("X-Echo-Key") != "[redacted]" {
		t.Errorf("response headers: trace %q, cookie %q, echoed key %q", first("X-Receiver-Trace"), first("Set-Cookie"), first("X-Echo-Key"))
	}
	if len(rh) > 32 || len(first("X-Long")) > 256 {
		t.Errorf("response headers unbounded: %d names, X-Long %d bytes", len(rh), len(first("X-Long")))
	}
}
