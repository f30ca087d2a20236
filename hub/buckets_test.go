package hub_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

// TestAPIStatsBuckets: attempts written the way the delivery engine writes
// them, at known times, come back from GET /v1/webhooks/{id}/stats/buckets
// in the 5-minute bucket they fell in, the older ones outside the hour not
// at all; test sends are not counted; a bad bucket is a 400 naming the
// parameter; another account's token meets "not found".
func TestAPIStatsBuckets(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"delivery":{"allow_insecure_targets":true},"accounts":[{"id":"acme","api_token":"`+acmeToken+
		`"},{"id":"globex","api_token":"`+globexToken+`"}],"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["*"]`)+`]}`)
	n := bus.NewNames("hookhub")
	js := r.JetStream()
	now := time.Now().UTC()
	// Oldest first, as the engine writes them.
	recs := []struct {
		ago  time.Duration
		out  string
		test bool
	}{
		{2 * time.Hour, delivery.OutcomeDelivered, false}, // outside the hour
		{42 * time.Minute, delivery.OutcomeDelivered, false},
		{42 * time.Minute, delivery.OutcomeDead, false},
		{12 * time.Minute, delivery.OutcomeDelivered, false},
		{12 * time.Minute, delivery.OutcomeRetrying, false},
		{12 * time.Minute, delivery.OutcomeRetrying, false},
		{12 * time.Minute, delivery.OutcomeDelivered, true}, // a test send
	}
	for i, x := range recs {
		rec := delivery.Attempt{Job: fmt.Sprintf("evt_%d:wh", i), Webhook: "wh", Account: "acme", EventID: fmt.Sprintf("evt_%d", i),
			EventType: "contact.updated", Attempt: 1, Outcome: x.out, Status: 500, At: now.Add(-x.ago), Test: x.test}
		b, _ := json.Marshal(rec)
		publishAsync(t, js, "an attempt record", func() error { _, err := js.PublishAsync(n.Attempt("acme", "wh"), b); return err })
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("the records were not stored")
	}

	var m map[string]any
	hubtest.Eventually(t, 10*time.Second, "the buckets", func() bool {
		var code int
		code, m = a.call("GET", "/v1/webhooks/wh/stats/buckets?bucket=5m&window=1h", "")
		if code != 200 {
			t.Fatalf("buckets: %d %v", code, m)
		}
		total := 0
		for _, d := range m["data"].([]any) {
			total += int(d.(map[string]any)["delivered"].(float64) + d.(map[string]any)["failed"].(float64))
		}
		return total == 5
	})
	data := m["data"].([]any)
	if len(data) != 12 || m["bucket"] != "5m0s" || m["account"] != "acme" {
		t.Fatalf("want 12 buckets of 5m0s of acme: %v", m)
	}
	at := func(ago time.Duration) map[string]any { // the bucket holding now-ago
		since, _ := time.Parse(time.RFC3339, m["since"].(string))
		i := int(now.Add(-ago).Sub(since) / (5 * time.Minute))
		return data[i].(map[string]any)
	}
	if b := at(12 * time.Minute); b["delivered"] != 1.0 || b["failed"] != 2.0 {
		t.Errorf("the bucket of 12 minutes ago: %v, want 1 delivered (the test send not counted), 2 failed", b)
	}
	if b := at(42 * time.Minute); b["delivered"] != 1.0 || b["failed"] != 1.0 || b["dead_lettered"] != 1.0 {
		t.Errorf("the bucket of 42 minutes ago: %v, want 1 delivered, 1 failed (dead-lettered)", b)
	}

	for _, q := range []string{"?bucket=7m", "?bucket=10s", "?bucket=1m&window=24h", "?window=soon"} {
		code, m := a.call("GET", "/v1/webhooks/wh/stats/buckets"+q, "")
		if code != 400 || errCode(m) != "bad_parameter" {
			t.Errorf("%s: %d %v, want 400 bad_parameter", q, code, m)
		}
	}
	if code, m, _ := a.do("GET", "/v1/webhooks/wh/stats/buckets", "", acmeToken); code != 200 {
		t.Errorf("acme's own webhook: %d %v", code, m)
	}
	code, m, _ := a.do("GET", "/v1/webhooks/wh/stats/buckets", "", globexToken)
	absent, am, _ := a.do("GET", "/v1/webhooks/nope/stats/buckets", "", globexToken)
	if code != 404 || absent != 404 || fmt.Sprint(m) == "" || errCode(m) != errCode(am) {
		t.Errorf("globex reads acme's buckets: %d %v (absent webhook: %d %v), want 404 both", code, m, absent, am)
	}
}
