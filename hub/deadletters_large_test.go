package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// getUnchecked is a GET on the management API without the OpenAPI check (the
// answers here are too large for it), decoded into out.
func getUnchecked(t *testing.T, a *api, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return res.StatusCode
}

// TestDeadLetterPagesPastTheServersByteBound: 100 dead letters of one
// webhook, 900 KB each (an event may be up to 1 MiB), are all listed in one
// page and all redriven. The delivery log reads a page of a webhook's
// records in batched direct gets, and a batch ends at a byte bound (the
// server's max_pending, 64 MiB by default): the hub reads on from where a
// batch ended. (It did not: the page lacked the newest 25 and said it was
// complete, and "redrive all" left them dead.)
func TestDeadLetterPagesPastTheServersByteBound(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"delivery":{"allow_insecure_targets":true},"webhooks":[`+
		webhookJSON("wh_dl", "acme", rc.URL+"/dl", `"events":["email.*"]`)+`]}`)
	n := bus.NewNames("hookhub")
	js := r.JetStream()

	const letters = 100
	pad := strings.Repeat("x", 900_000) // under the hub's 1 MiB event limit
	failed := time.Now().UTC().Add(-time.Hour)
	for i := range letters {
		id := fmt.Sprintf("dl_%d", i)
		m := deadLetterMsg(n, id, failed.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf(`{"pad":%q}`, pad))
		publishAsync(t, js, "a dead letter", func() error { _, err := js.PublishMsgAsync(m); return err })
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("the dead letters were not stored in 30 s")
	}

	// One page of all 100: newest first, complete.
	var page struct {
		Data []struct {
			Seq     uint64 `json:"seq"`
			EventID string `json:"event_id"`
		} `json:"data"`
		HasMore bool `json:"has_more"`
	}
	hubtest.Eventually(t, 20*time.Second, "the dead letters listed", func() bool {
		return getUnchecked(t, a, "/v1/webhooks/wh_dl/dead-letters?limit=100", &page) == http.StatusOK
	})
	newest := ""
	if len(page.Data) > 0 {
		newest = page.Data[0].EventID
	}
	if len(page.Data) != letters || newest != fmt.Sprintf("dl_%d", letters-1) {
		t.Errorf("GET dead-letters?limit=100 over %d dead letters: %d listed, has_more=%v, newest %q; want %d, newest dl_%d",
			letters, len(page.Data), page.HasMore, newest, letters, letters-1)
	}

	// Redrive them all: every one should go back as a job.
	code, out := a.call("POST", "/v1/webhooks/wh_dl/dead-letters/redrive", "")
	if code != http.StatusAccepted {
		t.Fatalf("redrive: %d %v", code, out)
	}
	if got, _ := out["redriven"].(float64); int(got) != letters {
		t.Errorf("POST dead-letters/redrive over %d dead letters: redriven %v; want %d", letters, out["redriven"], letters)
	}
}

// deadLetterMsg is a dead letter of event id to webhook wh_dl of acme, as
// the delivery engine writes one, failed at failed, with data.
func deadLetterMsg(n bus.Names, id string, failed time.Time, data string) *nats.Msg {
	m := nats.NewMsg(n.DeadLetter("acme", "wh_dl"))
	m.Header.Set(bus.HeaderWebhook, "wh_dl")
	m.Header.Set(bus.HeaderJob, id+":wh_dl")
	m.Header.Set(bus.HeaderEventID, id)
	m.Header.Set(bus.HeaderReason, "receiver answered 500")
	m.Header.Set(bus.HeaderAttempts, "1")
	m.Header.Set(bus.HeaderFailedAt, failed.Format(time.RFC3339Nano))
	m.Data = fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"test","type":"email.hard_bounced","account":"acme","initiator":"system","data":%s}`, id, data)
	return m
}
