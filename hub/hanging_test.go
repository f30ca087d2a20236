package hub_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestHangingEndpointsDoNotStarveOthers: with serve's shipped delivery
// settings, seventeen webhooks whose endpoints never answer each fill their
// share of requests in flight (17 × 16 = 272, more than the 256 the hub once
// allowed in all), and another account's webhook is still delivered at
// once, not after the hanging requests time out (15 s).
func TestHangingEndpointsDoNotStarveOthers(t *testing.T) {
	const hangers, perHanger = 17, 20
	release := make(chan struct{})
	hang := hubtest.NewReceiver(t)
	hang.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	fine := hubtest.NewReceiver(t)
	hooks := webhookJSON("fine", "other", fine.URL, `"events":["*"]`)
	for i := range hangers {
		// One endpoint each (its own path), as distinct receivers.
		hooks += "," + webhookJSON(fmt.Sprintf("hang%d", i), "acme", fmt.Sprintf("%s/h%d", hang.URL, i), `"events":["*"]`)
	}
	r := startHub(t, `{"webhooks":[`+hooks+`]}`, nil)
	t.Cleanup(func() { close(release) }) // before the hub stops: it waits for its requests in flight
	for i := range perHanger {
		r.publish(t, contact(fmt.Sprintf("evt_hang%d", i)))
	}
	// 256 hanging requests (as many as the hub once allowed in all) are in
	// flight before the others' events come.
	hang.WaitFor(t, 256, 15*time.Second)
	start := time.Now()
	for i := range 20 {
		e := contact(fmt.Sprintf("evt_fine%d", i))
		e.Account = "other"
		r.publish(t, e)
	}
	fine.WaitFor(t, 20, 30*time.Second)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the healthy webhook's 20 deliveries took %s beside %d hanging endpoints: held up until their requests timed out", took, hangers)
	}
}
