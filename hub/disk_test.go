package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/publish"
)

// TestStorageFull: JetStream's storage is small and fills up. Publishers see
// errors (and nothing half-stored); every event JetStream acknowledged is
// delivered once there is room again.
func TestStorageFull(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a JetStream store")
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxStore: 4 << 20, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })

	var mu sync.Mutex
	seen := map[string]bool{}
	release := make(chan struct{})
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		<-release // hold deliveries until the store has filled
		mu.Lock()
		seen[r.Header.Get("webhook-id")] = true
		mu.Unlock()
		w.WriteHeader(200)
	})
	hubtest.StartHub(t, fmt.Sprintf(`{"nats_url":%q,"webhooks":[%s]}`, s.ClientURL(), webhookJSON("wh", "acme", rc.URL, `"events":["*"]`)), nil)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	p := publish.New(js, "hookhub")
	acked, refused := 0, 0
	pad := make([]byte, 2000)
	for i := range pad {
		pad[i] = 'x'
	}
	for i := range 4000 {
		e := contact(fmt.Sprintf("evt_full%d", i))
		e.Source = "disk-test"
		e.Data = []byte(fmt.Sprintf(`{"email":"a@example.com","pad":%q}`, pad))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := p.Publish(ctx, e)
		cancel()
		if err != nil {
			refused++
			if refused > 20 {
				break
			}
			continue
		}
		acked++
	}
	t.Logf("%d events stored, %d refused once the store was full", acked, refused)
	if refused == 0 {
		t.Fatal("the store never filled: the test proves nothing")
	}
	close(release)
	hubtest.Eventually(t, 90*time.Second, "every stored event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) >= acked
	})
}
