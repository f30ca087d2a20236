package console_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// BenchmarkConsoleLog1M: the console's pages with 40 webhooks and an attempt
// log of HOOKHUB_BENCH_CONSOLE_RECORDS records (default 1,000,000), half of
// them one webhook's, written as the delivery engine writes them. Each
// sub-benchmark is one page, signed in, over loopback HTTP; it reports the
// p50 and p99 in ms.
//
//	go test ./hub/internal/console -run '^$' -bench ConsoleLog1M -benchtime 100x -timeout 30m
func BenchmarkConsoleLog1M(b *testing.B) {
	records := 1_000_000
	if v := os.Getenv("HOOKHUB_BENCH_CONSOLE_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("HOOKHUB_BENCH_CONSOLE_RECORDS=%q: want a number of at least 100", v)
		}
		records = n
	}
	var hooks []string
	for i := range 40 {
		hooks = append(hooks, fmt.Sprintf(`{"id":"wh_%d","account":"acme","name":"hook %d","url":"https://hooks%d.example.com/in","secret":%q,"events":["contact.*","email.hard_bounced"]}`,
			i, i, i, hubtest.Secret))
	}
	h := hubtest.StartHub(b, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,"accounts":[{"id":"acme"}],"webhooks":[%s]}`,
		opToken, strings.Join(hooks, ",")), nil)
	js, err := jetstream.New(h.Conn(), jetstream.WithPublishAsyncMaxPending(1<<14))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-6 * 24 * time.Hour)
	step := 6 * 24 * time.Hour / time.Duration(records)
	outcomes := []string{"delivered", "delivered", "delivered", "delivered", "delivered", "delivered", "delivered", "retrying", "retrying", "dead"}
	for i := range records {
		wh := "wh_0"
		if i%2 == 1 {
			wh = fmt.Sprintf("wh_%d", 1+i%39)
		}
		id := fmt.Sprintf("evt_%08d", i)
		rec, _ := json.Marshal(map[string]any{"job": id + ":" + wh, "webhook": wh, "account": "acme", "event_id": id,
			"event_type": "contact.updated", "attempt": 1, "outcome": outcomes[(i/2)%len(outcomes)], "status": 200, "latency_ms": 12.5,
			"response": `{"ok":true}`, "request_headers": map[string][]string{"Content-Type": {"application/json"}},
			"at": start.Add(time.Duration(i) * step)})
		for try := 0; ; try++ {
			_, err := js.PublishAsync("hookhub.attempts.acme."+wh, rec)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || try == 10 {
				b.Fatalf("publish %d: %v", i, err)
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(20 * time.Minute):
		b.Fatal("the records were not stored in 20 minutes")
	}
	br := newBrowser(b, h.APIURL())
	br.signIn(opToken)
	// The first read waits for the log's index to catch up.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		resp, _ := br.do("GET", "/console/webhooks/wh_0/logs", nil)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the logs page answers %d after 10 minutes", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, page := br.do("GET", "/console/webhooks/wh_0/logs", nil)
	older := ""
	if i := strings.Index(page, "/logs?"); i >= 0 {
		older = page[i:]
		older = "/console/webhooks/wh_0" + strings.ReplaceAll(older[:strings.IndexByte(older, '"')], "&amp;", "&")
	}
	pages := []struct{ name, path, must string }{
		{"webhooks-40", "/console/webhooks", "data-webhook="},
		{"logs-newest", "/console/webhooks/wh_0/logs", "evt_"},
		{"logs-older", older, "evt_"},
		{"logs-dead", "/console/webhooks/wh_0/logs?outcome=dead", "evt_"},
		{"event", "/console/events/evt_00000000?account=acme", "evt_00000000"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			if p.path == "" {
				b.Skip("no older page link on the logs page")
			}
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				resp, body := br.do("GET", p.path, nil)
				lat = append(lat, time.Since(t0))
				if resp.StatusCode != 200 || !strings.Contains(body, p.must) {
					b.Fatalf("%s: %d", p.path, resp.StatusCode)
				}
			}
			slices.Sort(lat)
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}
