package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

// oldScanBound is how many records the API's listings read before the
// delivery log had its index: past it, they were wrong.
const oldScanBound = 100_000

// TestDeliveryLogPastTheOldBound fills the attempt log and the dead
// letters past the old bound, the way the delivery engine writes them,
// then delivers one event for real on top, and reads everything back
// through the API: newest first, one event's attempts (the newest and the
// oldest), filters paged to the end by cursor, counts over the last hour,
// day and whole log, and dead letters listed and redriven by time range.
func TestDeliveryLogPastTheOldBound(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the log with 200,000 records")
	}
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"delivery":{"allow_insecure_targets":true},"webhooks":[`+
		webhookJSON("wh", "acme", rc.URL+"/wh", `"events":["*"]`)+","+
		webhookJSON("wh_dl", "acme", rc.URL+"/dl", `"events":["email.*"]`)+`]}`)
	n := bus.NewNames("hookhub")
	js := r.JetStream()
	now := time.Now().UTC()
	twoHoursAgo, halfHourAgo := now.Add(-2*time.Hour), now.Add(-30*time.Minute)

	// The attempts: wh gets oldScanBound+1500 records, the first half two
	// hours old, the rest half an hour old; every tenth is a retry of a
	// bounce, the others deliveries of contact updates.
	const attempts = oldScanBound + 1500
	var want struct{ delivered, retrying, retryingHour, bouncesHour int }
	for i := range attempts {
		at, out, typ := twoHoursAgo, delivery.OutcomeDelivered, "contact.updated"
		if i >= attempts/2 {
			at = halfHourAgo
		}
		if i%10 == 0 {
			out, typ = delivery.OutcomeRetrying, "email.hard_bounced"
			want.retrying++
			if at == halfHourAgo {
				want.retryingHour++
			}
		} else {
			want.delivered++
		}
		rec := delivery.Attempt{Job: fmt.Sprintf("evt_%d:wh", i), Webhook: "wh", Account: "acme", EventID: fmt.Sprintf("evt_%d", i),
			EventType: typ, Attempt: 1, Outcome: out, Status: 200, At: at.Add(time.Duration(i) * time.Microsecond)}
		b, _ := json.Marshal(rec)
		publishAsync(t, js, "an attempt record", func() error { _, err := js.PublishAsync(n.Attempt("acme", "wh"), b); return err })
	}
	// The dead letters of wh_dl: ten failed three hours ago, the others an
	// hour ago.
	const letters = oldScanBound + 1000
	threeHoursAgo, hourAgo := now.Add(-3*time.Hour), now.Add(-time.Hour)
	for i := range letters {
		failed := hourAgo
		if i < 10 {
			failed = threeHoursAgo
		}
		m := deadLetterMsg(n, fmt.Sprintf("dl_%d", i), failed.Add(time.Duration(i)*time.Microsecond), `{"email":"ada@example.com"}`)
		publishAsync(t, js, "a dead letter", func() error { _, err := js.PublishMsgAsync(m); return err })
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		t.Fatal("the records were not stored in 2 minutes")
	}

	// One real delivery on top: the newest record of the log.
	r.publish(t, contact("evt_newest"))
	rc.WaitFor(t, 1, 10*time.Second)
	want.delivered++

	get := func(path string) map[string]any {
		t.Helper()
		var m map[string]any
		hubtest.Eventually(t, 30*time.Second, "GET "+path, func() bool {
			var code int
			code, m = a.call("GET", path, "")
			return code == 200
		})
		return m
	}
	data := func(m map[string]any) []map[string]any {
		var out []map[string]any
		for _, d := range m["data"].([]any) {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	// Newest first: the real delivery, then the last record written.
	var first []map[string]any
	hubtest.Eventually(t, 10*time.Second, "the real delivery first in the log", func() bool {
		first = data(get("/v1/webhooks/wh/attempts?limit=2"))
		return len(first) == 2 && first[0]["event_id"] == "evt_newest"
	})
	if first[1]["event_id"] != fmt.Sprintf("evt_%d", attempts-1) {
		t.Errorf("second newest attempt is %v, want evt_%d", first[1]["event_id"], attempts-1)
	}
	// One event's attempts, the newest and the oldest of the log.
	for _, id := range []string{"evt_newest", "evt_0"} {
		if got := data(get("/v1/events/" + id + "/attempts?account=acme")); len(got) != 1 || got[0]["event_id"] != id {
			t.Errorf("attempts of %s: %v", id, got)
		}
	}
	if got := data(get("/v1/webhooks/wh/attempts?event_id=evt_1")); len(got) != 1 || got[0]["event_id"] != "evt_1" {
		t.Errorf("wh's attempts of evt_1: %v", got)
	}

	// A filter paged to its end by cursor: every retry, each once, newest
	// first.
	seen, pages, prev := 0, 0, uint64(0)
	path := "/v1/webhooks/wh/attempts?limit=500&outcome=retrying"
	for next := ""; pages == 0 || next != ""; pages++ {
		if pages > 100 {
			t.Fatal("more than 100 pages of retries")
		}
		p := path
		if next != "" {
			p += "&before=" + next
		}
		m := get(p)
		for _, d := range data(m) {
			seq := uint64(d["seq"].(float64))
			if d["outcome"] != "retrying" || prev != 0 && seq >= prev {
				t.Fatalf("page %d: %v after seq %d", pages, d, prev)
			}
			prev = seq
			seen++
		}
		next, _ = m["next"].(string)
		if (next != "") != (m["has_more"] == true) {
			t.Fatalf("page %d: next %q but has_more %v", pages, next, m["has_more"])
		}
	}
	if seen != want.retrying {
		t.Errorf("paged through %d retries, want %d", seen, want.retrying)
	}
	// Type and time together: the bounces of the last hour.
	since := url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))
	bounces := 0
	for next := ""; ; {
		m := get("/v1/webhooks/wh/attempts?limit=500&event_type=email.hard_bounced&since=" + since + "&before=" + next)
		bounces += len(data(m))
		if next, _ = m["next"].(string); next == "" {
			break
		}
		if bounces > attempts {
			t.Fatal("bounces never end")
		}
	}
	if bounces != want.retryingHour {
		t.Errorf("bounces of the last hour: %d, want %d", bounces, want.retryingHour)
	}

	// Counts: the whole log, the last day, the last hour.
	st := get("/v1/webhooks/wh/stats")
	if st["delivered"] != float64(want.delivered) || st["failed"] != float64(want.retrying) {
		t.Errorf("stats: delivered %v failed %v, want %d and %d", st["delivered"], st["failed"], want.delivered, want.retrying)
	}
	hour, _ := st["last_hour"].(map[string]any)
	day, _ := st["last_day"].(map[string]any)
	if hour["failed"] != float64(want.retryingHour) || hour["delivered"] != float64(attempts-attempts/2-want.retryingHour+1) {
		t.Errorf("last hour: %v", hour)
	}
	if day["delivered"] != float64(want.delivered) {
		t.Errorf("last day: %v", day)
	}

	// Dead letters: newest first past the old bound, and a time range.
	dl := data(get("/v1/webhooks/wh_dl/dead-letters?limit=1"))
	if len(dl) != 1 || dl[0]["event_id"] != fmt.Sprintf("dl_%d", letters-1) {
		t.Errorf("newest dead letter: %v", dl)
	}
	from, to := url.QueryEscape(now.Add(-4*time.Hour).Format(time.RFC3339)), url.QueryEscape(now.Add(-2*time.Hour).Format(time.RFC3339))
	old := data(get("/v1/webhooks/wh_dl/dead-letters?limit=500&since=" + from + "&until=" + to))
	if len(old) != 10 || old[0]["event_id"] != "dl_9" || old[9]["event_id"] != "dl_0" {
		t.Errorf("dead letters three hours old: %d, first %v", len(old), old)
	}
	code, m := a.call("POST", "/v1/webhooks/wh_dl/dead-letters/redrive?since="+from+"&until="+to, "")
	if code != 202 || m["redriven"] != float64(10) {
		t.Fatalf("redrive the three-hour-old letters: %d %v", code, m)
	}
	reqs := rc.WaitFor(t, 11, 30*time.Second)
	got := map[string]bool{}
	for _, q := range reqs[1:] {
		got[q.Header.Get("webhook-id")] = true
	}
	for i := range 10 {
		if !got[fmt.Sprintf("dl_%d:wh_dl", i)] {
			t.Errorf("dl_%d was not redriven: %v", i, got)
		}
	}
	if left := data(get("/v1/webhooks/wh_dl/dead-letters?limit=500&since=" + from + "&until=" + to)); len(left) != 0 {
		t.Errorf("redriven letters still listed: %v", left)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, n.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx, jetstream.WithSubjectFilter(n.DeadLetter("acme", "wh_dl"))); err != nil || info.State.Msgs != letters-10 {
		t.Errorf("dead letters left: %v %v, want %d", info, err, letters-10)
	}
}

// TestDeliveryLogRetention: the attempt log and the dead letters keep to
// their size and age bounds, the oldest records going first, and the
// API's listings, lookups and counts agree with what the streams kept.
func TestDeliveryLogRetention(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"attempt_log_max_bytes":262144,"dead_letter_retention":"2s","webhooks":[`+
		webhookJSON("wh", "acme", rc.URL, `"events":["*"]`)+`]}`)
	n := bus.NewNames("hookhub")
	js := r.JetStream()
	const records = 5000 // about 1.2 MB of records: the log keeps the newest fifth or so
	for i := range records {
		rec := delivery.Attempt{Job: fmt.Sprintf("evt_%d:wh", i), Webhook: "wh", Account: "acme", EventID: fmt.Sprintf("evt_%d", i),
			EventType: "contact.updated", Attempt: 1, Outcome: delivery.OutcomeDelivered, Status: 200, At: time.Now()}
		b, _ := json.Marshal(rec)
		publishAsync(t, js, "an attempt record", func() error { _, err := js.PublishAsync(n.Attempt("acme", "wh"), b); return err })
	}
	m := nats.NewMsg(n.DeadLetter("acme", "wh"))
	m.Header.Set(bus.HeaderWebhook, "wh")
	m.Header.Set(bus.HeaderEventID, "evt_dead")
	m.Header.Set(bus.HeaderFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
	m.Data = []byte(`{}`)
	publishAsync(t, js, "a dead letter", func() error { _, err := js.PublishMsgAsync(m); return err })
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("the records were not stored in a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, n.AttemptsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept, first := int(info.State.Msgs), info.State.FirstSeq
	if info.Config.MaxBytes != 262144 || kept == 0 || kept >= records || info.State.LastSeq != records {
		t.Fatalf("attempt log: max_bytes %d, %d records kept of %d (last %d)", info.Config.MaxBytes, kept, records, info.State.LastSeq)
	}
	_, stats := a.call("GET", "/v1/webhooks/wh/stats", "")
	if stats["delivered"] != float64(kept) {
		t.Errorf("stats count %v delivered, the log keeps %d", stats["delivered"], kept)
	}
	// The oldest records are the ones gone; the oldest kept is found.
	if _, m := a.call("GET", "/v1/events/evt_0/attempts?account=acme", ""); len(m["data"].([]any)) != 0 {
		t.Errorf("a dropped record is still listed: %v", m)
	}
	oldest := fmt.Sprintf("evt_%d", first-1) // record i has sequence i+1
	if _, m := a.call("GET", "/v1/events/"+oldest+"/attempts?account=acme", ""); len(m["data"].([]any)) != 1 {
		t.Errorf("the oldest record kept, %s, is not found: %v", oldest, m)
	}
	listed, next := 0, ""
	for pages := 0; pages == 0 || next != ""; pages++ {
		_, m := a.call("GET", "/v1/webhooks/wh/attempts?limit=500&before="+next, "")
		listed += len(m["data"].([]any))
		next, _ = m["next"].(string)
		if pages > records/500 {
			t.Fatal("the listing never ends")
		}
	}
	if listed != kept {
		t.Errorf("listed %d records, the log keeps %d", listed, kept)
	}
	// The dead letter goes after its 2 s.
	hubtest.Eventually(t, 20*time.Second, "the dead letter dropped after dead_letter_retention", func() bool {
		_, m := a.call("GET", "/v1/webhooks/wh/dead-letters", "")
		return len(m["data"].([]any)) == 0
	})
}
