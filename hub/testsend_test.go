package hub_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestAPITestSendInTheAttemptLog: a test send, delivered or failed, is in the
// webhook's attempt log as soon as the API has answered, marked "test": true,
// with its outcome, status, event and the webhook-id the receiver saw; and it
// counts in none of the hub's delivery counters.
func TestAPITestSendInTheAttemptLog(t *testing.T) {
	ok, failing := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	failing.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	})
	r, a := startAPIHub(t, `{}`)
	for id, url := range map[string]string{"wh_ok": ok.URL, "wh_down": failing.URL} {
		if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":%q,"account":"acme","url":%q,"events":["contact.*"]}`, id, url)); code != 201 {
			t.Fatalf("create %s: %d %v", id, code, m)
		}
	}
	for _, c := range []struct {
		webhook string
		rc      *hubtest.Receiver
		outcome string
		status  float64
	}{{"wh_ok", ok, "delivered", 200}, {"wh_down", failing, "failed", 503}} {
		code, m := a.call("POST", "/v1/webhooks/"+c.webhook+"/test", `{"event_type":"email.clicked"}`)
		if code != 200 || m["status"] != c.status {
			t.Fatalf("test send to %s: %d %v", c.webhook, code, m)
		}
		sent := c.rc.WaitFor(t, 1, 5*time.Second)[0]
		code, m = a.call("GET", "/v1/webhooks/"+c.webhook+"/attempts", "")
		list, _ := m["data"].([]any)
		if code != 200 || len(list) != 1 {
			t.Fatalf("%s's attempt log after a test send: %d %v", c.webhook, code, m)
		}
		rec := list[0].(map[string]any)
		if rec["test"] != true || rec["outcome"] != c.outcome || rec["status"] != c.status || rec["attempt"] != float64(1) ||
			rec["event_type"] != "email.clicked" || rec["account"] != "acme" || rec["webhook"] != c.webhook ||
			rec["job"] != sent.Header.Get("webhook-id") || rec["event_id"] == "" {
			t.Errorf("%s: the test send's record is %v; want test true, outcome %s, status %v, job %q",
				c.webhook, rec, c.outcome, c.status, sent.Header.Get("webhook-id"))
		}
		if c.outcome == "failed" && rec["error"] == nil {
			t.Errorf("%s: a failed test send's record has no error: %v", c.webhook, rec)
		}
		if code, m = a.call("GET", "/v1/webhooks/"+c.webhook+"/attempts?outcome="+c.outcome, ""); code != 200 || len(m["data"].([]any)) != 1 {
			t.Errorf("%s: filtering the log on outcome %s: %d %v", c.webhook, c.outcome, code, m)
		}
	}
	if s := r.Stats(); s.Delivered != 0 || s.Failed != 0 || s.DeadLettered != 0 {
		t.Errorf("test sends counted as deliveries: %+v", s)
	}
}

// TestAPIStatsLeaveTestSendsOut: a webhook's /stats counts its deliveries, not
// its test sends, delivered or failed.
func TestAPIStatsLeaveTestSendsOut(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n > 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	_, a := startAPIHub(t, `{}`)
	if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh","account":"acme","url":%q,"events":["contact.*"]}`, rc.URL)); code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	for range 2 {
		if code, m := a.call("POST", "/v1/webhooks/wh/test", `{"event_type":"email.clicked"}`); code != 200 {
			t.Fatalf("test send: %d %v", code, m)
		}
	}
	if _, m := a.call("GET", "/v1/webhooks/wh/attempts", ""); len(m["data"].([]any)) != 2 {
		t.Fatalf("the two test sends are not in the log: %v", m)
	}
	code, m := a.call("GET", "/v1/webhooks/wh/stats", "")
	if code != 200 || m["delivered"] != float64(0) || m["failed"] != float64(0) || m["last_success"] != nil || m["last_failure"] != nil {
		t.Errorf("stats after a delivered and a failed test send: %d %v; want none counted (the stats reader must skip records with \"test\": true)", code, m)
	}
}
