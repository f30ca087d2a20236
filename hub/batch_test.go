package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// failsFirst makes rc answer its first request 503 and the others 200.
func failsFirst(rc *hubtest.Receiver) *hubtest.Receiver {
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return rc
}

func batchIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var items []struct {
		Type string `json:"type"`
		Data struct {
			Email string `json:"email"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("batch body is not a JSON array: %v: %s", err, body)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Data.Email)
	}
	sort.Strings(out)
	return out
}

// TestBatchBySize: ten events with max_events 5 arrive as two signed POSTs of
// five, every event exactly once.
func TestBatchBySize(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("gr", "acme", rc.URL, `"events":["*"],"batch":{"max_events":5,"max_wait":"10s"}`) + `]}`
	r := startHub(t, doc, nil)
	for i := range 10 {
		e := contact(fmt.Sprintf("evt_b%d", i))
		e.Data = json.RawMessage(fmt.Sprintf(`{"email":"c%d@example.com"}`, i))
		r.publish(t, e)
	}
	reqs := rc.WaitFor(t, 2, 20*time.Second)
	wh, _ := standardwebhooks.NewWebhook(testSecret)
	var all []string
	for _, q := range reqs {
		if err := wh.Verify(q.Body, q.Header); err != nil {
			t.Errorf("batch signature: %v", err)
		}
		if !strings.HasPrefix(q.Header.Get("webhook-id"), "batch_") {
			t.Errorf("webhook-id = %q, want a batch id", q.Header.Get("webhook-id"))
		}
		ids := batchIDs(t, q.Body)
		if len(ids) != 5 {
			t.Errorf("batch of %d events, want 5", len(ids))
		}
		all = append(all, ids...)
	}
	sort.Strings(all)
	if len(all) != 10 || all[0] != "c0@example.com" || all[9] != "c9@example.com" {
		t.Errorf("events delivered: %v", all)
	}
}

// TestBatchByTimeRetriedAsUnit: three events with room for a hundred go after
// max_wait as one request; the receiver fails it once and the retry carries
// the same batch under the same webhook-id.
func TestBatchByTimeRetriedAsUnit(t *testing.T) {
	rc := failsFirst(hubtest.NewReceiver(t))
	doc := `{"webhooks":[` + webhookJSON("gr", "acme", rc.URL, `"events":["*"],"batch":{"max_events":100,"max_wait":"300ms"},"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	for i := range 3 {
		e := contact(fmt.Sprintf("evt_t%d", i))
		e.Data = json.RawMessage(fmt.Sprintf(`{"email":"t%d@example.com"}`, i))
		r.publish(t, e)
	}
	reqs := rc.WaitFor(t, 2, 20*time.Second)
	first, second := batchIDs(t, reqs[0].Body), batchIDs(t, reqs[1].Body)
	if fmt.Sprint(first) != "[t0@example.com t1@example.com t2@example.com]" || fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("first batch %v, retry %v: want the same three events", first, second)
	}
	if a, b := reqs[0].Header.Get("webhook-id"), reqs[1].Header.Get("webhook-id"); a != b {
		t.Errorf("retry webhook-id %q differs from %q", b, a)
	}
	recs := attempts(t, r, 6)
	delivered := 0
	for _, rec := range recs {
		if rec.Batch != reqs[0].Header.Get("webhook-id") {
			t.Errorf("attempt record without its batch: %+v", rec)
		}
		if rec.Outcome == "delivered" {
			delivered++
		}
	}
	if delivered != 3 {
		t.Errorf("%d events recorded delivered, want 3", delivered)
	}
}

// TestBatchRetryFitsASmallMaxPayload: on an outside NATS that takes
// messages of 64 KiB, a webhook batching 100 events of about 2 KiB gathers
// batches its retry can be stored as (before, a batch of 100 was sent, its
// retry could not be stored, and its jobs came back as new ones forever).
// Every event is delivered once, after the failed first requests.
func TestBatchRetryFitsASmallMaxPayload(t *testing.T) {
	s := hubtest.StartNATS(t, func(o *server.Options) { o.MaxPayload = 64 << 10 })
	rc := hubtest.NewReceiver(t)
	failed := map[string]bool{}
	var mu sync.Mutex
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("webhook-id")
		if !failed[id] { // each batch fails once
			failed[id] = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	doc := fmt.Sprintf(`{"nats_url":%q,"webhooks":[`, s.ClientURL()) +
		webhookJSON("gr", "acme", rc.URL, `"events":["*"],"batch":{"max_events":100,"max_wait":"300ms"},"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	pad := strings.Repeat("x", 2000)
	for i := range 100 {
		e := contact(fmt.Sprintf("evt_p%d", i))
		e.Data = json.RawMessage(fmt.Sprintf(`{"email":"p%d@example.com","pad":%q}`, i, pad))
		r.publish(t, e)
	}
	// Each event in two requests: its batch's failed one and the retry.
	got := map[string]int{}
	hubtest.Eventually(t, 30*time.Second, "every event sent twice", func() bool {
		clear(got)
		for _, q := range rc.Requests() {
			for _, id := range batchIDs(t, q.Body) {
				got[id]++
			}
		}
		for _, n := range got {
			if n < 2 {
				return false
			}
		}
		return len(got) == 100
	})
	time.Sleep(time.Second)
	clear(got)
	for _, q := range rc.Requests() {
		if len(q.Body) > 64<<10 {
			t.Errorf("a batch of %d bytes: past what its retry could be stored in", len(q.Body))
		}
		for _, id := range batchIDs(t, q.Body) {
			got[id]++
		}
	}
	for id, n := range got {
		if n != 2 {
			t.Errorf("%s in %d requests, want 2 (its batch, failed, and the batch's retry)", id, n)
		}
	}
}
