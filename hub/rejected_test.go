package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/admin"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

// startLoggedAPIHub is startAPIHub with the hub's warnings in logs.
func startLoggedAPIHub(t *testing.T, doc string, logs *syncBuffer, level zerolog.Level) (*running, *api) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	m["api_addr"], m["api_token"] = "127.0.0.1:0", apiToken
	raw, _ := json.Marshal(m)
	r := startHub(t, string(raw), nil, hub.WithLogger(zerolog.New(logs).Level(level)))
	return r, &api{t: t, base: r.APIURL(), doc: loadOpenAPI(t)}
}

// TestAPIRejectedEvents: the events the router refused are listed, newest
// first, with their id, account (from the subject), reason, time and the raw
// event cut to a few KiB; an account token sees only its account's, and an
// event whose subject names no account is the API token's alone. The log
// line of each names its event id and account.
func TestAPIRejectedEvents(t *testing.T) {
	const acmeTok, globexTok = "acme-token-for-tests", "globex-token-for-tests"
	var logs syncBuffer
	r, a := startLoggedAPIHub(t, `{"accounts":[{"id":"acme","api_token":"`+acmeTok+`"},{"id":"globex","api_token":"`+globexTok+`"}]}`, &logs, zerolog.WarnLevel)
	big := strings.Repeat("é", 6000) // 12 KB of two-byte characters
	// One at a time: the router takes events in parallel, and the list is
	// in the order they were rejected.
	publishRaw(t, r, "hookhub.events.acme.contact.updated", "",
		`{"specversion":"1.0","id":"evt_bad_acme","source":"s","type":"contact.updated","account":"acme","data":{"email":7,"note":"`+big+`"}}`)
	rejectedReasons(t, r, 1)
	publishRaw(t, r, "hookhub.events.globex.contact.updated", "globex:evt_bad_globex", `not json at all`)
	rejectedReasons(t, r, 2)
	publishRaw(t, r, "hookhub.events.no!such!account.contact.updated", "", `{"id":"evt_nobody"}`)
	rejectedReasons(t, r, 3)

	list := func(tok, query string) (int, []map[string]any) {
		t.Helper()
		code, m, raw := a.do("GET", "/v1/rejected-events"+query, "", tok)
		var out struct{ Data []map[string]any }
		_ = json.Unmarshal(raw, &out)
		if code == 200 && out.Data == nil {
			t.Errorf("GET /v1/rejected-events%s: no data: %v", query, m)
		}
		return code, out.Data
	}
	code, all := list(apiToken, "")
	if code != 200 || len(all) != 3 {
		t.Fatalf("the API token lists: %d %v", code, all)
	}
	wantOrder := []struct{ id, account string }{{"evt_nobody", ""}, {"evt_bad_globex", "globex"}, {"evt_bad_acme", "acme"}}
	for i, w := range wantOrder {
		if all[i]["event_id"] != w.id || all[i]["account"] != w.account || all[i]["reason"] == "" || all[i]["time"] == "" {
			t.Errorf("rejected[%d]: event %v of account %v (reason %v, time %v), want event %q of account %q, newest first, with a reason and time",
				i, all[i]["event_id"], all[i]["account"], all[i]["reason"], all[i]["time"], w.id, w.account)
		}
	}
	acme := all[2]
	if ev, _ := acme["event"].(string); len(ev) > admin.RejectedEventMax || !strings.HasPrefix(ev, `{"specversion":"1.0","id":"evt_bad_acme"`) ||
		acme["truncated"] != true || !strings.Contains(acme["reason"].(string), "data.email") {
		t.Errorf("acme's rejected event: %d bytes, truncated %v, reason %v", len(ev), acme["truncated"], acme["reason"])
	}
	if all[1]["event"] != "not json at all" || all[1]["truncated"] == true {
		t.Errorf("globex's raw event: %.100v", all[1]["event"])
	}

	if code, got := list(acmeTok, ""); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_bad_acme" {
		t.Errorf("acme's token lists: %d %v, want only evt_bad_acme", code, got)
	}
	if code, got := list(globexTok, "?account=globex"); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_bad_globex" {
		t.Errorf("globex's token lists its own: %d %v", code, got)
	}
	if code, _, _ := a.do("GET", "/v1/rejected-events?account=globex", "", acmeTok); code != 403 {
		t.Errorf("acme's token asks for globex's: %d, want 403", code)
	}
	if code, got := list(apiToken, "?account=acme&limit=5"); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_bad_acme" {
		t.Errorf("the API token, account=acme: %d %v", code, got)
	}
	if code, got := list(apiToken, "?limit=1"); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_nobody" {
		t.Errorf("limit=1: %d %v, want the newest", code, got)
	}
	if code, _, _ := a.do("GET", "/v1/rejected-events?limit=0", "", apiToken); code != 400 {
		t.Errorf("limit=0: %d, want 400", code)
	}

	for id, account := range map[string]string{"evt_bad_acme": "acme", "evt_bad_globex": "globex", "evt_nobody": ""} {
		found := false
		for _, line := range strings.Split(logs.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["message"] == "event rejected" && l["event"] == id {
				found = true
				if got, _ := l["account"].(string); got != account {
					t.Errorf("the log line of %s names account %q, want %q", id, got, account)
				}
			}
		}
		if !found {
			t.Errorf("no \"event rejected\" log line names event %s:\n%s", id, logs.String())
		}
	}
}

// TestMetricsUnmatchedEvents: an event no webhook wants is counted as
// unmatched, not as routed.
func TestMetricsUnmatchedEvents(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["contact.*"]`)+`]}`)
	r.publish(t, contact("evt_wanted"))
	nobody := contact("evt_unwanted")
	nobody.Account = "globex" // no webhook of globex
	r.publish(t, nobody)
	rc.WaitFor(t, 1, 10*time.Second)
	want := []string{
		`hookhub_events_total{outcome="routed",type="contact.updated"} 1`,
		`hookhub_events_total{outcome="unmatched",type="contact.updated"} 1`,
	}
	var last string
	hubtest.Eventually(t, 10*time.Second, "one routed and one unmatched event in the metrics", func() bool {
		_, _, raw := a.do("GET", "/metrics", "", apiToken)
		last = string(raw)
		return strings.Contains(last, want[0]) && strings.Contains(last, want[1])
	})
	if strings.Contains(last, `hookhub_events_total{outcome="routed",type="contact.updated"} 2`) {
		t.Errorf("an unmatched event counted as routed")
	}
}

// TestLastSuccessOneSource: the webhook list, the webhook and its stats show
// the same last_success, and it is the latest delivery's, not one kept from
// an earlier one.
func TestLastSuccessOneSource(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("wh", "acme", rc.URL, `"events":["*"]`)+`]}`)
	r.publish(t, contact("evt_first"))
	rc.WaitFor(t, 1, 10*time.Second)
	var first time.Time
	hubtest.Eventually(t, 10*time.Second, "the first attempt in the log", func() bool {
		_, m := a.call("GET", "/v1/webhooks/wh/attempts", "")
		data, _ := m["data"].([]any)
		if len(data) != 1 {
			return false
		}
		first, _ = time.Parse(time.RFC3339Nano, data[0].(map[string]any)["at"].(string))
		return !first.IsZero()
	})
	r.publish(t, contact("evt_second"))
	rc.WaitFor(t, 2, 10*time.Second)
	hubtest.Eventually(t, 10*time.Second, "two deliveries in the stats", func() bool {
		_, m := a.call("GET", "/v1/webhooks/wh/stats", "")
		return m["delivered"] == float64(2)
	})
	_, stats := a.call("GET", "/v1/webhooks/wh/stats", "")
	_, one := a.call("GET", "/v1/webhooks/wh", "")
	_, list := a.call("GET", "/v1/webhooks", "")
	data, _ := list["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("list: %v", list)
	}
	inList := data[0].(map[string]any)["last_success"]
	if inList != stats["last_success"] || one["last_success"] != stats["last_success"] {
		t.Errorf("last_success: list %v, webhook %v, stats %v: want one value", inList, one["last_success"], stats["last_success"])
	}
	s, _ := inList.(string)
	if at, err := time.Parse(time.RFC3339Nano, s); err != nil || !at.After(first) {
		t.Errorf("last_success %q is not after the first delivery's attempt (%s): the second delivery is not shown", s, first.Format(time.RFC3339Nano))
	}
}

// TestFailedAttemptsLogSummarised: a failing webhook's first failure is
// logged at once, then at most one summary line per interval that counts the
// failures since; not a line per attempt.
func TestFailedAttemptsLogSummarised(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	var logs syncBuffer
	r, _ := startLoggedAPIHub(t, `{"webhooks":[`+webhookJSON("wh_a", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1h"]}`)+`,`+
		webhookJSON("wh_b", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1h"]}`)+`]}`, &logs, zerolog.InfoLevel)
	const events = 20
	for i := range events {
		r.publish(t, contact(fmt.Sprintf("evt_fail_%d", i)))
	}
	hubtest.Eventually(t, 30*time.Second, "every first attempt failed", func() bool { return r.Stats().Retried >= 2*events })
	lines := func(webhook string) []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(logs.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["webhook"] == webhook && l["next_retry_at"] != nil {
				out = append(out, l)
			}
		}
		return out
	}
	for _, wh := range []string{"wh_a", "wh_b"} {
		got := lines(wh)
		if len(got) == 0 || got[0]["message"] != "delivery failed; will retry" || !strings.Contains(fmt.Sprint(got[0]["reason"]), "500") {
			t.Errorf("%s: the first failure is not logged with its reason: %v", wh, got)
		}
		if len(got) > 3 { // the first, and a summary per 10 s the test took
			t.Errorf("%s: %d lines for %d failed attempts, want the first and a summary per %s", wh, len(got), events, delivery.FailLogEvery)
		}
	}
	// Past the interval, the next failure brings the summary of those not
	// logged.
	var summary map[string]any
	for i := 0; i < 40 && summary == nil; i++ {
		time.Sleep(500 * time.Millisecond)
		r.publish(t, contact(fmt.Sprintf("evt_later_%d", i)))
		hubtest.Eventually(t, 10*time.Second, "the attempt failed", func() bool { return r.Stats().Retried >= int64(2*(events+i+1)) })
		for _, l := range lines("wh_a") {
			if n, _ := l["failed"].(float64); n > 1 {
				summary = l
			}
		}
	}
	if summary == nil {
		t.Fatalf("no summary line after %s; lines of wh_a: %d", delivery.FailLogEvery, len(lines("wh_a")))
	}
	if msg := fmt.Sprint(summary["message"]); !strings.Contains(msg, "attempts failed in the last") || !strings.Contains(msg, "last: ") || !strings.Contains(msg, "500") {
		t.Errorf("summary line: %q", msg)
	}
}
