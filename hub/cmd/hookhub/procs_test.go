package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// gomaxprocs reads the hub's GOMAXPROCS from its /metrics (0 when it
// cannot).
func gomaxprocs(apiURL string) int {
	resp, err := http.Get(apiURL + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_sched_gomaxprocs_threads "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// TestServeAdaptsGOMAXPROCS runs hookhub serve as shipped (procs adaptive):
// idle, it goes down to one P; under load it gets every P back; with
// procs fixed it stays on all of them.
func TestServeAdaptsGOMAXPROCS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hookhub binary")
	}
	if runtime.NumCPU() < 2 || os.Getenv("GOMAXPROCS") != "" {
		t.Skip("needs two CPUs and no GOMAXPROCS")
	}
	bin, err := buildHookhub()
	if err != nil {
		t.Fatal(err)
	}
	rc := hubtest.NewReceiver(t)
	start := func(procs string) (apiURL string, js jetstream.JetStream) {
		dir := t.TempDir()
		natsPort, apiPort := freePort(t), freePort(t)
		cfg := fmt.Sprintf(`{"data_dir":%q,"nats_listen":"127.0.0.1:%d","api_addr":"127.0.0.1:%d","procs":%q,
			"delivery":{"allow_insecure_targets":true},
			"webhooks":[{"id":"a","account":"acme","url":%q,"events":["*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}`,
			filepath.Join(dir, "data"), natsPort, apiPort, procs, rc.URL)
		cfgPath := filepath.Join(dir, "hookhub.json")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		startProc(t, bin, cfgPath)
		apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
		var nc *nats.Conn
		hubtest.Eventually(t, 30*time.Second, "the hub's NATS to accept connections", func() bool {
			nc, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", natsPort))
			return err == nil
		})
		t.Cleanup(nc.Close)
		js, _ = jetstream.New(nc)
		return apiURL, js
	}

	apiURL, js := start("adaptive")
	all := 0
	hubtest.Eventually(t, 30*time.Second, "the API's /metrics", func() bool {
		all = gomaxprocs(apiURL)
		return all > 0
	})
	hubtest.Eventually(t, 30*time.Second, "an idle hub to go down to one P", func() bool {
		return gomaxprocs(apiURL) == 1
	})

	// Load: events as fast as the hub takes them, until it has its Ps
	// back (at most 100,000 events or 60 s).
	pub := publish.New(js, "hookhub")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	back := false
	for i := 0; i < 100_000 && !back; i++ {
		e := &event.Event{ID: fmt.Sprintf("evt_%d", i), Source: "procs-test", Type: "contact.updated", Account: "acme",
			Data: json.RawMessage(`{"email":"ada@example.com"}`)}
		if _, err := pub.Publish(ctx, e); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if i%200 == 0 {
			back = gomaxprocs(apiURL) > 1
		}
	}
	if !back {
		t.Fatalf("GOMAXPROCS is %d under load, want all of them back (%d before it went down)", gomaxprocs(apiURL), all)
	}

	// procs fixed: an idle hub keeps its Ps (checked for 3 s, past the 2 s
	// the controller would wait).
	fixedURL, _ := start("fixed")
	hubtest.Eventually(t, 30*time.Second, "the second hub's /metrics", func() bool { return gomaxprocs(fixedURL) > 0 })
	for range 6 {
		if n := gomaxprocs(fixedURL); n == 1 {
			t.Fatal("procs fixed: GOMAXPROCS went down to 1")
		}
		time.Sleep(500 * time.Millisecond)
	}
}
