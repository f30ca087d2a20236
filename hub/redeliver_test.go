package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestQueuedBehindSlowReceiversDeliveredOnce: jobs queued behind slow
// receivers, and running, for longer than the deliverer consumer's ack wait
// are each delivered exactly once, although JetStream hands them out again.
//
// On a machine short of CPU the hub's renewals (in-progress acks) and acks
// reach JetStream seconds late, and JetStream then gives this hub jobs it
// still holds a second time (issue 15: 194 duplicates in a bench run with
// no failure). The test makes that happen on a quiet machine: it shortens
// the consumer's ack wait to 0.5s, below the period of the hub's renewals
// (1s), so that JetStream hands every job out again while it waits or runs.
func TestQueuedBehindSlowReceiversDeliveredOnce(t *testing.T) {
	const webhooks, perWebhook = 4, 4
	const latency = 1500 * time.Millisecond
	var rcs []*hubtest.Receiver
	var hooks []string
	for i := range webhooks {
		rc := hubtest.NewReceiver(t)
		rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusNoContent)
		})
		rcs = append(rcs, rc)
		hooks = append(hooks, webhookJSON(fmt.Sprintf("slow%d", i), "acme", rc.URL, `"events":["*"]`))
	}
	// One request at a time per webhook: each webhook's jobs wait in its
	// lane, the last for 3 × 1.5s.
	doc := `{"delivery":{"per_webhook_concurrency":1,"timeout":"30s"},"webhooks":[` + strings.Join(hooks, ",") + `]}`
	r := startHub(t, doc, nil)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cons, err := r.JetStream().Consumer(ctx, streamName("hookhub", "DELIVERIES"), "deliverer")
	if err != nil {
		t.Fatal(err)
	}
	cfg := cons.CachedInfo().Config
	cfg.AckWait = 500 * time.Millisecond
	if _, err := r.JetStream().UpdateConsumer(ctx, streamName("hookhub", "DELIVERIES"), cfg); err != nil {
		t.Fatalf("shortening the deliverer's ack wait: %v", err)
	}

	for j := range perWebhook { // every webhook gets every event
		r.publish(t, contact(fmt.Sprintf("evt_%d", j)))
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, rc := range rcs {
		rc.WaitFor(t, perWebhook, time.Until(deadline))
	}
	// Copies handed out again would come after the lane's last job: give
	// them time to show.
	time.Sleep(2500 * time.Millisecond)
	for i, rc := range rcs {
		seen := map[string]int{}
		for _, q := range rc.Requests() {
			seen[q.Header.Get("webhook-id")]++
		}
		for j := range perWebhook {
			id := fmt.Sprintf("evt_%d:slow%d", j, i)
			if seen[id] != 1 {
				t.Errorf("webhook-id %s arrived %d times, want exactly once", id, seen[id])
			}
		}
		if n := rc.Count(); n != perWebhook {
			t.Errorf("receiver slow%d got %d requests, want %d (ids %v)", i, n, perWebhook, seen)
		}
	}
	s := r.Stats()
	if s.Delivered != webhooks*perWebhook || s.Failed != 0 {
		t.Errorf("stats = %+v, want %d delivered and no failure", s, webhooks*perWebhook)
	}
	// The test holds only if JetStream did hand jobs out again.
	if s.Redelivered == 0 {
		t.Errorf("stats = %+v: JetStream handed out no job again, so this test proves nothing", s)
	}
}
