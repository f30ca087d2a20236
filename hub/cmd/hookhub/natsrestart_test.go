package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// buildNATS compiles nats-server, at the version in go.mod, once.
var buildNATS = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "nats-server-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

// TestNATSRestartLosesNothing points a hookhub process at an outside
// nats-server process, kills that with SIGKILL under load, starts it again on
// the same storage, and checks that every event is delivered.
func TestNATSRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server and hookhub")
	}
	natsBin, err := buildNATS()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := buildHookhub()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	startNATS := func() *exec.Cmd {
		cmd := exec.Command(natsBin, "-js", "-sd", filepath.Join(dir, "nats"), "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-n", "outside")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	natsProc := startNATS()

	var mu sync.Mutex
	seen := map[string]bool{}
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")] = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	cfg := fmt.Sprintf(`{"nats_url":%q,"data_dir":%q,"api_addr":"off","log_format":"json",
		"delivery":{"allow_insecure_targets":true,"retry":{"schedule":["1s","1s","1s","1s","1s"],"jitter":0}},
		"webhooks":[{"id":"a","account":"acme","url":%q,"events":["*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}`,
		url, filepath.Join(dir, "data"), rc.URL)
	cfgPath := filepath.Join(dir, "hookhub.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var nc *nats.Conn
	hubtest.Eventually(t, 30*time.Second, "nats-server to accept connections", func() bool {
		nc, err = nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		return err == nil
	})
	defer nc.Close()
	startProc(t, bin, cfgPath)
	js, _ := jetstream.New(nc)
	hubtest.Eventually(t, 30*time.Second, "the hub's streams", func() bool {
		_, err := js.Consumer(context.Background(), "HOOKHUB_EVENTS", "router")
		return err == nil
	})

	const events = 300
	pub := publish.New(js, "hookhub")
	published := make(chan error, 1)
	go func() {
		for i := range events {
			e := &event.Event{ID: fmt.Sprintf("evt_n%03d", i), Source: "restart-test", Type: "contact.updated", Account: "acme",
				Data: json.RawMessage(`{"email":"ada@example.com"}`)}
			if err := hubtest.PublishUntilStored(pub, e, 60*time.Second); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	hubtest.Eventually(t, 60*time.Second, "a first share delivered", func() bool { return count() >= 80 })
	if err := natsProc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = natsProc.Wait()
	t.Logf("nats-server killed after %d deliveries", count())
	time.Sleep(time.Second)
	startNATS()
	if err := <-published; err != nil {
		t.Fatalf("publishing through the restart: %v", err)
	}
	hubtest.Eventually(t, 90*time.Second, "every event delivered after the restart", func() bool { return count() == events })
}
