package hub_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

func opsTypes(reqs []hubtest.Request) []string {
	var out []string
	for _, q := range reqs {
		var p struct {
			Type string `json:"type"`
			Data struct {
				Webhook string `json:"webhook"`
			} `json:"data"`
		}
		_ = json.Unmarshal(q.Body, &p)
		out = append(out, p.Type+"/"+p.Data.Webhook)
	}
	return out
}

// TestGoneDisablesWebhook: a 410 disables the webhook, the ops webhook hears
// of it, later events wait in the dead letters instead of being sent, and
// enabling it again delivers.
func TestGoneDisablesWebhook(t *testing.T) {
	rc, gone := goneReceiver(t)
	ops := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("old", "acme", rc.URL, `"events":["*"]`) + "," +
		webhookJSON("ops", "acme", ops.URL, `"events":["hookhub.*"]`) + `]}`
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_g1"))
	got := opsTypes(ops.WaitFor(t, 2, 20*time.Second))
	if !strings.Contains(strings.Join(got, " "), "hookhub.webhook.disabled/old") || !strings.Contains(strings.Join(got, " "), "hookhub.attempt.exhausted/old") {
		t.Errorf("ops webhook got %v, want disabled and exhausted events for old", got)
	}
	if st := r.WebhookHealth("old"); !st.Disabled || !strings.Contains(st.Reason, "410") {
		t.Errorf("health = %+v, want disabled for 410", st)
	}
	r.publish(t, contact("evt_g2"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 2, 20*time.Second)
	if reason := dl[1].Headers().Get(bus.HeaderReason); !strings.Contains(reason, "disabled by the hub") {
		t.Errorf("second event's dead-letter reason %q", reason)
	}
	if n := rc.Count(); n != 1 {
		t.Errorf("the disabled webhook got %d requests, want only the first", n)
	}
	// The attempt log names the event's type though no request was built.
	hubtest.Eventually(t, 20*time.Second, "the attempt record of evt_g2 with its type", func() bool {
		for _, m := range r.streamMsgs(t, streamName("hookhub", "ATTEMPTS"), 100) {
			var a delivery.Attempt
			if json.Unmarshal(m.Data(), &a) == nil && a.EventID == "evt_g2" && a.Webhook == "old" {
				return a.EventType == "contact.updated"
			}
		}
		return false
	})
	gone.Store(false)
	if err := r.EnableWebhook(t.Context(), "old"); err != nil {
		t.Fatal(err)
	}
	r.publish(t, contact("evt_g3"))
	reqs := rc.WaitFor(t, 2, 20*time.Second)
	if reqs[1].Header.Get("webhook-id") != "evt_g3:old" {
		t.Errorf("after enabling, got %s", reqs[1].Header.Get("webhook-id"))
	}
}

// TestFailingTooLongDisables: a webhook failing without a success for longer
// than disable_after is disabled.
func TestFailingTooLongDisables(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	doc := `{"delivery":{"disable_after":"1s"},"webhooks":[` + webhookJSON("flaky", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s","1s","1s","1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_f1"))
	hubtest.Eventually(t, 20*time.Second, "the webhook to be disabled", func() bool { return r.WebhookHealth("flaky").Disabled })
	if st := r.WebhookHealth("flaky"); !strings.Contains(st.Reason, "no successful delivery since") {
		t.Errorf("reason %q", st.Reason)
	}
	if n := rc.Count(); n < 2 || n > 3 {
		t.Errorf("%d attempts before disabling after 1s of failures with 1s retries, want 2 or 3", n)
	}
}

// TestEnableOffersRecovery: enabling a webhook the hub disabled says how many
// events were stranded in the dead letters since it began failing and how to
// redrive them; following that redrives them all, and ?recover=true does it
// at once.
func TestEnableOffersRecovery(t *testing.T) {
	rc, gone := goneReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("a", "acme", rc.URL+"/a", `"events":["*"]`)+","+
		webhookJSON("b", "acme", rc.URL+"/b", `"events":["*"]`)+`]}`)
	r.publish(t, contact("evt_r1"))
	hubtest.Eventually(t, 20*time.Second, "both webhooks disabled", func() bool {
		return r.WebhookHealth("a").Disabled && r.WebhookHealth("b").Disabled
	})
	r.publish(t, contact("evt_r2"))
	r.publish(t, contact("evt_r3"))
	r.waitStream(t, streamName("hookhub", "DLQ"), 6, 20*time.Second)
	gone.Store(false)

	code, m := a.call("POST", "/v1/webhooks/a/enable", "")
	st, _ := m["stranded"].(map[string]any)
	if code != 200 || m["id"] != "a" || m["disabled"] == true || st == nil || st["dead_letters"] != float64(3) || st["recover"] == nil {
		t.Fatalf("enable a: %d %v", code, m)
	}
	method, path, _ := strings.Cut(st["recover"].(string), " ")
	if code, m := a.call(method, path, ""); code != 202 || m["redriven"] != float64(3) {
		t.Fatalf("following the offer %q: %d %v", st["recover"], code, m)
	}
	code, m = a.call("POST", "/v1/webhooks/b/enable?recover=true", "")
	if st, _ := m["stranded"].(map[string]any); code != 200 || st == nil || st["redriven"] != float64(3) {
		t.Fatalf("enable b with recover: %d %v", code, m)
	}
	got := map[string]bool{}
	for _, q := range rc.WaitFor(t, 2+6, 20*time.Second) {
		got[q.Path+" "+q.Header.Get("webhook-id")] = true
	}
	for _, w := range []string{"a", "b"} {
		for _, e := range []string{"evt_r1", "evt_r2", "evt_r3"} {
			if !got["/"+w+" "+e+":"+w] {
				t.Errorf("%s never reached %s after the recovery: %v", e, w, got)
			}
		}
	}
	if code, m := a.call("POST", "/v1/webhooks/a/enable?recover=maybe", ""); code != 400 || errCode(m) != "bad_parameter" {
		t.Errorf("a bad recover: %d %v", code, m)
	}
}

// goneReceiver answers 410 Gone while gone is set (at first), then 200.
func goneReceiver(t *testing.T) (*hubtest.Receiver, *atomic.Bool) {
	gone := new(atomic.Bool)
	gone.Store(true)
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return rc, gone
}
