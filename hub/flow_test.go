package hub_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// TestOverloadPausesEndpoint: a 429 with Retry-After pauses every delivery to
// that endpoint, not only the retried one, and all arrive afterwards.
func TestOverloadPausesEndpoint(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	doc := `{"delivery":{"per_webhook_concurrency":1},"webhooks":[` + webhookJSON("busy", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	for i := range 5 {
		r.publish(t, contact(fmt.Sprintf("evt_p%d", i)))
	}
	reqs := rc.WaitFor(t, 6, 30*time.Second)
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 2*time.Second-50*time.Millisecond {
		t.Errorf("the endpoint asked for 2s of quiet after its 429; the next request came after %s", gap)
	}
	hubtest.Eventually(t, 10*time.Second, "five deliveries", func() bool { return r.Stats().Delivered == 5 })
}

// BenchmarkRateLimit measures the rate a webhook limited to 200 requests/s
// actually gets (reported as req/s; it should be close to 200).
//
//	go test -run '^$' -bench RateLimit ./hub/
func BenchmarkRateLimit(b *testing.B) {
	rc := hubtest.NewReceiver(b)
	doc := `{"webhooks":[` + webhookJSON("limited", "acme", rc.URL, `"events":["*"],"rate_limit":{"per_second":200,"burst":1}`) + `]}`
	js := hubtest.StartHub(b, doc, nil).JetStream()
	const n = 600
	var rate float64
	for round := range b.N { // one round takes 3s: the default benchtime runs it once
		start := rc.Count()
		for i := range n {
			e := contact(fmt.Sprintf("evt_rl%d_%d", round, i))
			e.Source = "bench"
			if _, err := publishEvent(js, e); err != nil {
				b.Fatal(err)
			}
		}
		reqs := rc.WaitFor(b, start+n, time.Minute)[start:]
		span := reqs[n-1].At.Sub(reqs[100].At) // past the first burst
		rate = float64(n-101) / span.Seconds()
	}
	b.ReportMetric(rate, "req/s")
}

// TestConcurrencyRecoversForQueuedJobs: after overload responses cut a
// webhook's concurrency to one, the jobs already queued for it go out in
// parallel again as successes grow the limit back, not one at a time.
func TestConcurrencyRecoversForQueuedJobs(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	var mu sync.Mutex
	inFlight, most := 0, 0
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 8 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // a receiver that takes its time, so requests can overlap
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	doc := `{"webhooks":[` + webhookJSON("recovering", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1h"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	for i := range 8 {
		r.publish(t, contact(fmt.Sprintf("evt_over%d", i)))
	}
	rc.WaitFor(t, 8, 30*time.Second) // eight 503s: the limit is down to one
	for i := range 16 {
		r.publish(t, contact(fmt.Sprintf("evt_queued%d", i)))
	}
	hubtest.Eventually(t, 60*time.Second, "16 deliveries", func() bool { return r.Stats().Delivered == 16 })
	mu.Lock()
	defer mu.Unlock()
	if most < 2 {
		t.Errorf("the 16 queued jobs went out at most %d at a time after the endpoint recovered; want the limit to grow back", most)
	}
}

// TestLongDeliveryIsNotHandedOn: a delivery that takes longer than the
// deliverer's ack wait stays with the hub that runs it (in-progress acks keep
// it), so the receiver gets it once, not again from a redelivery.
func TestLongDeliveryIsNotHandedOn(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	var mu sync.Mutex
	seen := map[string]int{}
	rc.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		if n == 1 {
			time.Sleep(bus.DelivererAck + 3*time.Second) // past the ack wait
		}
		w.WriteHeader(http.StatusOK)
	})
	doc := `{"webhooks":[` + webhookJSON("slowpoke", "acme", rc.URL, `"events":["*"]`) + `]}`
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_long"))
	hubtest.Eventually(t, 30*time.Second, "the long delivery", func() bool { return r.Stats().Delivered == 1 })
	r.publish(t, contact("evt_after")) // by the time it arrives, a redelivery would have too
	hubtest.Eventually(t, 30*time.Second, "the next delivery", func() bool { return r.Stats().Delivered == 2 })
	mu.Lock()
	defer mu.Unlock()
	if n := seen["evt_long:slowpoke"]; n != 1 {
		t.Errorf("the long delivery reached the receiver %d times, want once (requests by webhook-id: %v)", n, seen)
	}
}
