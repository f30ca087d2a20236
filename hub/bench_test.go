package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// BenchmarkEndToEnd publishes events of ~1 KiB and waits until a loopback
// HTTPS receiver has b.N deliveries: signed deliveries/s through the whole
// pipeline, each event to one webhook, or to 100 (b.N/100 events).
//
//	go test -run '^$' -bench EndToEnd -benchtime 20000x ./hub/
func BenchmarkEndToEnd(b *testing.B) {
	for _, fanout := range []int{1, 100} {
		b.Run(fmt.Sprintf("fanout=%d", fanout), func(b *testing.B) {
			rc := hubtest.NewTLSReceiver(b)
			hooks := make([]string, fanout)
			for i := range hooks {
				hooks[i] = webhookJSON(fmt.Sprintf("bench%d", i), "acme", rc.URL, `"events":["contact.*"]`)
			}
			doc := fmt.Sprintf(`{"accounts":[{"id":"acme","webhook_limit":%d}],"delivery":{"ca_file":%q,"per_webhook_concurrency":64},"webhooks":[%s]}`,
				max(40, fanout), rc.CAFile(b), strings.Join(hooks, ","))
			h := hubtest.StartHub(b, doc, nil)
			events := max(1, b.N/fanout)
			b.ResetTimer()
			start := time.Now()
			publishBench(b, h.JetStream(), events)
			rc.WaitFor(b, events*fanout, 5*time.Minute)
			b.ReportMetric(float64(events*fanout)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkPendingRetries publishes HOOKHUB_PENDING_RETRIES events to a
// webhook whose receiver always answers 503 and whose next retry is an hour
// away, waits until every job waits in JetStream for its retry, and reports
// the memory of the whole process (hub and embedded NATS server) at that
// point: retries are messages on disk, not the heap. It waits for the steady
// state (the dedupe window and 20s) before it measures, so it runs once, for
// the count it is given, and is skipped without one:
//
//	HOOKHUB_PENDING_RETRIES=1000000 go test -run '^$' -bench PendingRetries -benchtime 1x -timeout 40m ./hub/
func BenchmarkPendingRetries(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("HOOKHUB_PENDING_RETRIES"))
	if n <= 0 {
		b.Skip("set HOOKHUB_PENDING_RETRIES (1000000 for the README's figure); it takes minutes")
	}
	var requests atomic.Int64 // a receiver that keeps nothing: 1M recorded bodies would dwarf the hub
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	b.Cleanup(rc.Close)
	doc := fmt.Sprintf(`{"delivery":{"per_webhook_concurrency":64,"response_excerpt_bytes":0},"webhooks":[%s]}`,
		webhookJSON("down", "acme", rc.URL, `"events":["contact.*"],"retry":{"schedule":["1h"],"jitter":0}`))
	h := hubtest.StartHub(b, doc, nil)
	b.ResetTimer()
	publishBench(b, h.JetStream(), n)
	deadline := time.Now().Add(25 * time.Minute)
	for h.Stats().Retried < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("after 25m only %d of %d retries wait", h.Stats().Retried, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	// Measure the steady state while they wait, not the burst that put them
	// there: NATS drops its message-block caches after a few seconds idle,
	// and the message ids it keeps for de-duplication after its window.
	time.Sleep(bus.DedupeWindow + 20*time.Second)
	debug.FreeOSMemory()
	if f := os.Getenv("HOOKHUB_HEAP_PROFILE"); f != "" { // where the memory is, for pprof
		if out, err := os.Create(f); err == nil {
			_ = pprof.WriteHeapProfile(out)
			out.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(vmRSSMiB(), "rss_MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap_MiB")
	b.ReportMetric(float64(requests.Load()), "requests")
}

// vmRSSMiB is this process's resident memory now (Linux), in MiB.
func vmRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kib)
			return kib / 1024
		}
	}
	return 0
}

// publishBench publishes n contact.updated events of ~1 KiB (ids evt_0...),
// at most 10,000 unacknowledged at a time, and waits for every ack.
func publishBench(b *testing.B, js jetstream.JetStream, n int) {
	data := json.RawMessage(`{"email":"ada@example.com","attributes":{"NOTE":"` + strings.Repeat("x", 850) + `"}}`)
	for i := range n {
		e := &event.Event{SpecVersion: "1.0", ID: fmt.Sprintf("evt_%d", i), Source: "bench", Type: "contact.updated",
			Account: "acme", Initiator: "api", Data: data}
		raw, _ := json.Marshal(e)
		m := nats.NewMsg(e.NATSSubject("hookhub"))
		m.Header.Set("Nats-Msg-Id", publish.MsgID(e.Account, e.ID))
		m.Data = raw
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 9999 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
}
