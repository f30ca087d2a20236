package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
	"github.com/hookhub/hookhub/sdk/signature"
)

// buildHookhub compiles the command once per test binary.
var buildHookhub = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hookhub-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hookhub")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a running hookhub process.
type proc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startProc(t *testing.T, bin, cfgPath string, env ...string) *proc {
	t.Helper()
	p := &proc{out: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, "serve", "--config", cfgPath)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("hookhub output:\n%s", p.out)
		}
	})
	return p
}

// TestSIGKILLLosesNothing kills a hub with deliveries in flight and retries
// pending, starts it again on the same data, and checks that every event is
// delivered, with duplicates only under the same webhook-id.
func TestSIGKILLLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookhub binary")
	}
	bin, err := buildHookhub()
	if err != nil {
		t.Fatal(err)
	}
	const events = 300
	secret, _ := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	var mu sync.Mutex
	delivered := map[string]int{}    // webhook-id -> successful deliveries
	bodyEvent := map[string]string{} // webhook-id -> event id in the body
	failed := map[string]int{}       // webhook-id -> requests answered 503
	rc := hubtest.NewReceiver(t)
	// The hub is killed three times, at moments drawn at random within the
	// run (logged, so a failure can be replayed).
	seed := time.Now().UnixNano()
	rng := mathrand.New(mathrand.NewPCG(uint64(seed), 0))
	thresholds := []int{50 + rng.IntN(100), 200 + rng.IntN(100), 350 + rng.IntN(100)}
	t.Logf("kills after %v requests (seed %d)", thresholds, seed)
	killNow := make(chan int, len(thresholds))
	rc.SetRespond(func(n int, w http.ResponseWriter, r *http.Request) {
		if slices.Contains(thresholds, n) {
			killNow <- n
		}
		req := rc.Requests()[n-1]
		if err := signature.Verify(secret, req.Header, req.Body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p struct {
			Data struct {
				Event string `json:"event"`
			} `json:"data"`
		}
		_ = json.Unmarshal(req.Body, &p)
		id := req.Header.Get("webhook-id")
		time.Sleep(2 * time.Millisecond) // keep some deliveries in flight
		// Every fifth request fails, so retries are pending when the hub
		// dies; no job more than twice, since at the end a few jobs retry
		// in lockstep and one of them could take every fifth slot until its
		// last attempt.
		mu.Lock()
		fail := n%5 == 0 && failed[id] < 2
		if fail {
			failed[id]++
		}
		mu.Unlock()
		if fail {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		delivered[id]++
		if prev, ok := bodyEvent[id]; ok && prev != p.Data.Event {
			t.Errorf("webhook-id %s carried events %s and %s", id, prev, p.Data.Event)
		}
		bodyEvent[id] = p.Data.Event
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(`{"data_dir":%q,"nats_listen":"127.0.0.1:%d","api_addr":"127.0.0.1:0","log_format":"json",
		"delivery":{"allow_insecure_targets":true,"retry":{"schedule":["1s","1s","1s","1s","1s"],"jitter":0}},
		"webhooks":[{"id":"a","account":"acme","url":%q,"events":["*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		            {"id":"b","account":"acme","url":%q,"events":["contact.*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}`,
		filepath.Join(dir, "data"), port, rc.URL+"/a", rc.URL+"/b")
	cfgPath := filepath.Join(dir, "hookhub.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p := startProc(t, bin, cfgPath)

	var nc *nats.Conn
	hubtest.Eventually(t, 30*time.Second, "the hub's NATS to accept connections", func() bool {
		nc, err = nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		return err == nil
	})
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pub := publish.New(js, "hookhub")
	// The publisher runs through the crash as a real one would: it retries an
	// event until JetStream acks it; Nats-Msg-Id makes the retries harmless.
	published := make(chan error, 1)
	publishAll := func() {
		for i := range events {
			e := &event.Event{ID: fmt.Sprintf("evt_%03d", i), Source: "kill-test", Type: "contact.updated", Account: "acme",
				Data: json.RawMessage(fmt.Sprintf(`{"email":"c%d@example.com","event":"evt_%03d"}`, i, i))}
			if err := hubtest.PublishUntilStored(pub, e, 60*time.Second); err != nil {
				published <- fmt.Errorf("publish %d: %w", i, err)
				return
			}
		}
		published <- nil
	}
	hubtest.Eventually(t, 30*time.Second, "the hub to create its streams", func() bool {
		_, err := js.Stream(context.Background(), "HOOKHUB_EVENTS")
		return err == nil
	})
	time.Sleep(200 * time.Millisecond) // the router's consumer comes right after the streams
	go publishAll()
	for range thresholds {
		select {
		case <-killNow:
		case <-time.After(60 * time.Second):
			t.Fatal("the next kill's request count was not reached within 60s")
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.cmd.Wait()
		mu.Lock()
		before := len(delivered)
		mu.Unlock()
		t.Logf("killed the hub after %d requests, %d jobs delivered", rc.Count(), before)
		if before >= 2*events {
			t.Fatalf("everything was delivered before a kill; the test proves nothing")
		}
		p = startProc(t, bin, cfgPath)
	}
	p2 := p
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	want := 2 * events // each event matches both webhooks
	hubtest.Eventually(t, 90*time.Second, "every event delivered after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == want
	})
	mu.Lock()
	dups := 0
	for id, n := range delivered {
		if !strings.HasPrefix(id, bodyEvent[id]+":") {
			t.Errorf("webhook-id %s carried event %s", id, bodyEvent[id])
		}
		dups += n - 1
	}
	mu.Unlock()
	t.Logf("%d jobs delivered, %d duplicate deliveries (each under its job's webhook-id)", want, dups)

	// SIGTERM drains and exits 0.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p2.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("hookhub after SIGTERM: %v", err)
		}
		if !strings.Contains(p2.out.String(), "stopped cleanly") {
			t.Errorf("no clean stop in the log")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hookhub did not stop within 30s of SIGTERM")
	}
}
