package hub_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/publish"
)

// counting records deliveries by webhook-id.
type counting struct {
	mu   sync.Mutex
	seen map[string]int
}

func newCounting(rc *hubtest.Receiver) *counting {
	c := &counting{seen: map[string]int{}}
	rc.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen[r.Header.Get("webhook-id")]++
		c.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	return c
}

func (c *counting) unique() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.seen) }

// publishMany publishes n events from an outside client, retrying each until
// JetStream stores it (as a publisher does through a node failure).
func publishMany(t *testing.T, url string, n int, prefix string) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Error(err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	p := publish.New(js, "hookhub")
	for i := range n {
		e := contact(fmt.Sprintf("%s_%d", prefix, i))
		e.Source = "scale-test"
		if err := hubtest.PublishUntilStored(p, e, 60*time.Second); err != nil {
			t.Errorf("publish %d: %v", i, err)
			return
		}
	}
}

// TestSeveralHubsShareTheWork: three hubs on one NATS deliver every event,
// and each does part of the work.
func TestSeveralHubsShareTheWork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three hubs")
	}
	ns := hubtest.StartNATS(t)
	rc := hubtest.NewReceiver(t)
	seen := newCounting(rc)
	doc := fmt.Sprintf(`{"nats_url":%q,"webhooks":[%s]}`, ns.ClientURL(), webhookJSON("shared", "acme", rc.URL, `"events":["*"]`))
	var hubs []*hub.Hub
	for range 3 {
		hubs = append(hubs, hubtest.StartHub(t, doc, nil))
	}
	const n = 600
	publishMany(t, ns.ClientURL(), n, "evt_s")
	hubtest.Eventually(t, 60*time.Second, "every event delivered", func() bool { return seen.unique() == n })
	var shares []string
	for i, h := range hubs {
		s := h.Stats()
		shares = append(shares, fmt.Sprintf("hub %d: routed %d, delivered %d", i, s.Events, s.Delivered))
		if s.Delivered == 0 || s.Events == 0 {
			t.Errorf("hub %d did no work: %+v", i, s)
		}
	}
	t.Log(strings.Join(shares, "; "))
}

// TestClusterNodeLoss: two hubs on a three-node NATS cluster with three
// replicas; a NATS node and one of the hubs die at the same moment,
// mid-load; every event is still delivered (the dead hub's jobs in hand go
// to the other after the ack wait).
func TestClusterNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-node NATS cluster")
	}
	c := hubtest.StartCluster(t, 3)
	rc := hubtest.NewReceiver(t)
	seen := newCounting(rc)
	doc := fmt.Sprintf(`{"nats_url":%q,"stream_replicas":3,"webhooks":[%s]}`, c.URL(), webhookJSON("shared", "acme", rc.URL, `"events":["*"]`))
	doomed := hubtest.StartHub(t, doc, nil)
	hubtest.StartHub(t, doc, nil)
	const n = 400
	done := make(chan struct{})
	go func() { defer close(done); publishMany(t, c.URL(), n, "evt_c") }()
	hubtest.Eventually(t, 60*time.Second, "a first share delivered", func() bool { return seen.unique() >= n/4 })
	c.Servers[0].Shutdown()
	_ = doomed.Close() // the hub's connection dies with its jobs in hand
	t.Logf("node n1 and a hub gone after %d deliveries", seen.unique())
	<-done
	hubtest.Eventually(t, 120*time.Second, "every event delivered", func() bool { return seen.unique() == n })
}

// TestSeveralHubsShareTheRetries: three hubs on one NATS, a receiver that
// fails every event's first attempt: every retry is woken and moved back
// once, whichever hub takes it, and every event is delivered.
func TestSeveralHubsShareTheRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three hubs")
	}
	ns := hubtest.StartNATS(t)
	var mu sync.Mutex
	tries := map[string]int{}
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		id := r.Header.Get("webhook-id")
		tries[id]++
		first := tries[id] == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	doc := fmt.Sprintf(`{"nats_url":%q,"webhooks":[%s]}`, ns.ClientURL(),
		webhookJSON("flaky", "acme", rc.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`))
	var hubs []*hub.Hub
	for range 3 {
		hubs = append(hubs, hubtest.StartHub(t, doc, nil))
	}
	const n = 300
	publishMany(t, ns.ClientURL(), n, "evt_r")
	delivered := func() (d int64) {
		for _, h := range hubs {
			d += h.Stats().Delivered
		}
		return d
	}
	hubtest.Eventually(t, 60*time.Second, "every event delivered after its retry", func() bool { return delivered() >= n })
	mu.Lock()
	defer mu.Unlock()
	for id, k := range tries {
		if k != 2 {
			t.Errorf("%s was tried %d times, want 2 (a failure, then its one retry)", id, k)
		}
	}
	if len(tries) != n {
		t.Errorf("%d of %d events reached the receiver", len(tries), n)
	}
}
