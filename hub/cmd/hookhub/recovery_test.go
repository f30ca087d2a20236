package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// TestCrashHandsJobsOnWithinSeconds: the jobs a hub held when it was killed
// with SIGKILL (requests in flight to a receiver that had not answered yet)
// go out from the next hub within seconds (the deliverer's short ack wait),
// not after a minute.
func TestCrashHandsJobsOnWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookhub binary")
	}
	bin, err := buildHookhub()
	if err != nil {
		t.Fatal(err)
	}
	ns := hubtest.StartNATS(t)
	const events = 8
	var mu sync.Mutex
	ok := map[string]bool{} // webhook-ids answered 200
	var killed time.Time
	hold := make(chan struct{}) // the first hub's requests wait on it: they are in flight when it dies
	var holdOnce sync.Once
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := killed.IsZero()
		mu.Unlock()
		if first {
			select {
			case <-hold:
			case <-time.After(30 * time.Second):
			}
			http.Error(w, "the hub that sent this is gone", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		ok[r.Header.Get("webhook-id")] = true
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { holdOnce.Do(func() { close(hold) }) })

	dir := t.TempDir()
	cfg := fmt.Sprintf(`{"nats_url":%q,"api_addr":"off","log_format":"json",
		"delivery":{"allow_insecure_targets":true,"retry":{"schedule":["1h"],"jitter":0}},
		"webhooks":[{"id":"slow","account":"acme","url":%q,"events":["*"],"secret":%q}]}`,
		ns.ClientURL(), rc.URL, hubtest.Secret)
	cfgPath := filepath.Join(dir, "hookhub.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	first := startProc(t, bin, cfgPath)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pub := publish.New(js, "hookhub")
	hubtest.Eventually(t, 30*time.Second, "the hub's consumers", func() bool {
		_, err := js.Consumer(t.Context(), "HOOKHUB_DELIVERIES", "deliverer")
		return err == nil
	})
	for i := range events {
		e := &event.Event{ID: fmt.Sprintf("evt_crash%d", i), Source: "crash-test", Type: "contact.updated", Account: "acme",
			Data: json.RawMessage(`{"email":"ada@example.com"}`)}
		if err := hubtest.PublishUntilStored(pub, e, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	rc.WaitFor(t, events, 30*time.Second) // every job is in flight at the first hub
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	mu.Lock()
	killed = time.Now()
	mu.Unlock()
	holdOnce.Do(func() { close(hold) })
	startProc(t, bin, cfgPath)
	// The old ack wait (60 s) kept them from the second hub for a minute:
	// 20 s leaves room for a loaded machine, and the figure is logged.
	hubtest.Eventually(t, 20*time.Second, "every job the killed hub held delivered by the next one", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ok) == events
	})
	t.Logf("the jobs a killed hub held went out %s after the kill", time.Since(killed).Round(100*time.Millisecond))
}
