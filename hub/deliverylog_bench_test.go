package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/deliverylog"
)

// BenchmarkDeliveryLog fills the delivery log with HOOKHUB_BENCH_LOG_RECORDS
// attempt records (default 1,000,000; the README's figures are for
// 10,000,000) and one dead letter for every hundred, spread over six days,
// 100 webhooks of 10 accounts, one webhook holding half of them, as the
// delivery engine writes them; then times each read of the API over
// loopback HTTP against that hot webhook. Each sub-benchmark reports the
// p50 and p99 of one API call in ms.
//
//	HOOKHUB_BENCH_LOG_RECORDS=10000000 go test ./hub -run '^$' -bench DeliveryLog -benchtime 200x -timeout 90m -v
//
// (-v prints what the fill, the index and a cold start of the index took.)
func BenchmarkDeliveryLog(b *testing.B) {
	records := 1_000_000
	if v := os.Getenv("HOOKHUB_BENCH_LOG_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("HOOKHUB_BENCH_LOG_RECORDS=%q: want a number of at least 1000", v)
		}
		records = n
	}
	doc := `{"api_addr":"127.0.0.1:0","api_token":"` + apiToken + `","webhooks":[` +
		webhookJSON("wh_0", "acct_0", "https://127.0.0.1:1/", `"events":["account.updated"]`) + `]}`
	r := startHub(b, doc, nil)
	js, err := jetstream.New(r.Conn(), jetstream.WithPublishAsyncMaxPending(1<<14))
	if err != nil {
		b.Fatal(err)
	}
	n := bus.NewNames("hookhub")
	types := []string{"contact.updated", "contact.subscribed", "email.delivered", "email.opened", "email.clicked",
		"email.hard_bounced", "email.soft_bounced", "email.spam", "email.unsubscribed", "deal.updated"}
	start := time.Now().Add(-6 * 24 * time.Hour)
	step := 6 * 24 * time.Hour / time.Duration(records)
	rng := rand.New(rand.NewPCG(1, 2))
	webhookOf := func(i int) int {
		if i%2 == 0 {
			return 0 // the hot webhook: half the log
		}
		return 1 + rng.IntN(99)
	}
	headers := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"hookhub/0.1.0"},
		"Webhook-Signature": {"v1,HBDGG8bmg4b9RD4uvRLq5VDWu0U6rYj01Hja3aJON/I="}, "Webhook-Timestamp": {"1796090435"}}
	var probe []string // event ids to look up, spread over the log
	began := time.Now()
	for i := range records {
		w := webhookOf(i)
		acct, wh := fmt.Sprintf("acct_%d", w%10), fmt.Sprintf("wh_%d", w)
		out, status := delivery.OutcomeDelivered, 200
		switch (i / 2) % 100 { // i/2: the hot webhook (even i) gets every outcome
		case 1, 2, 3, 4, 5, 6, 7, 8:
			out, status = delivery.OutcomeRetrying, 503
		case 9:
			out, status = delivery.OutcomeDead, 500
		case 10:
			out, status = delivery.OutcomeSkipped, 0
		}
		id := fmt.Sprintf("evt_%08d", i)
		if w == 0 && i%(records/100) == 0 {
			probe = append(probe, id)
		}
		at := start.Add(time.Duration(i) * step)
		rec := delivery.Attempt{Job: id + ":" + wh, Webhook: wh, Account: acct, EventID: id, EventType: types[i%len(types)],
			Attempt: 1, Outcome: out, Status: status, LatencyMS: 12.5, Response: `{"ok":true}`, Headers: headers, At: at}
		data, _ := json.Marshal(rec)
		publishAsync(b, js, "an attempt record", func() error { _, err := js.PublishAsync(n.Attempt(acct, wh), data); return err })
		if out == delivery.OutcomeDead {
			m := nats.NewMsg(n.DeadLetter(acct, wh))
			m.Header.Set(bus.HeaderWebhook, wh)
			m.Header.Set(bus.HeaderJob, id+":"+wh)
			m.Header.Set(bus.HeaderEventID, id)
			m.Header.Set(bus.HeaderReason, "receiver answered 500 Internal Server Error")
			m.Header.Set(bus.HeaderAttempts, "8")
			m.Header.Set(bus.HeaderStatus, "500")
			m.Header.Set(bus.HeaderFailedAt, at.UTC().Format(time.RFC3339Nano))
			m.Data = fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"bench","type":%q,"account":%q,"initiator":"system","data":{"email":"ada@example.com"}}`, id, types[i%len(types)], acct)
			publishAsync(b, js, "a dead letter", func() error { _, err := js.PublishMsgAsync(m); return err })
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Minute):
		b.Fatal("the records were not stored in 30 minutes")
	}
	filled := time.Since(began)

	client := &http.Client{Timeout: time.Minute}
	call := func(method, path string) (int, []byte) {
		req, _ := http.NewRequest(method, r.APIURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	// The index reads the log as it is written; a read waits for it.
	caught := time.Now()
	for {
		code, body := call("GET", "/v1/webhooks/wh_0/stats")
		if code == 200 {
			break
		}
		if time.Since(caught) > 10*time.Minute || code != 503 {
			b.Fatalf("stats: %d %s", code, body)
		}
	}
	caughtUp := time.Since(caught)
	runtime.GC()
	indexed, bytes := r.DeliveryLogFootprint()
	b.Logf("%d attempt records and %d dead letters written in %s (%.0f records/s); index caught up %s after; "+
		"it holds %d records in %.0f MiB (%.0f bytes a record)",
		records, records/100, filled.Round(time.Second), float64(records+records/100)/filled.Seconds(), caughtUp.Round(time.Millisecond),
		indexed, float64(bytes)/(1<<20), float64(bytes)/float64(indexed))

	// A cursor half-way down the hot webhook's log.
	var mid struct {
		Next string `json:"next"`
	}
	_, body := call("GET", "/v1/webhooks/wh_0/attempts?limit=500")
	_ = json.Unmarshal(body, &mid)
	cursor, _ := strconv.ParseUint(mid.Next, 10, 64)
	cursor /= 2
	day := func(d int) string {
		return url.QueryEscape(start.Add(time.Duration(d) * 24 * time.Hour).UTC().Format(time.RFC3339))
	}
	reads := []struct{ name, method, path string }{
		{"newest-50", "GET", "/v1/webhooks/wh_0/attempts"},
		{"newest-500", "GET", "/v1/webhooks/wh_0/attempts?limit=500"},
		{"page-mid-log", "GET", fmt.Sprintf("/v1/webhooks/wh_0/attempts?before=%d", cursor)},
		{"outcome-dead", "GET", "/v1/webhooks/wh_0/attempts?outcome=dead"},
		{"type-and-day", "GET", "/v1/webhooks/wh_0/attempts?event_type=email.clicked&since=" + day(2) + "&until=" + day(3)},
		{"event-by-id", "GET", "/v1/events/%s/attempts"},
		{"stats", "GET", "/v1/webhooks/wh_0/stats"},
		{"dead-letters", "GET", "/v1/webhooks/wh_0/dead-letters"},
		{"dead-letters-day", "GET", "/v1/webhooks/wh_0/dead-letters?since=" + day(4) + "&until=" + day(5)},
	}
	// A cold start: a second reader over the same streams builds its
	// index from nothing, as a hub started over this log does.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second, err := bus.Open(ctx, bus.Options{URL: r.NATSURL(), Prefix: "hookhub", Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer second.Close()
	cold := deliverylog.NewJetStream(second, zerolog.Nop())
	cold.CatchUpWait = 30 * time.Minute
	go func() { _ = cold.Run(ctx) }()
	t0 := time.Now()
	if _, err := cold.Counts(ctx, "acct_0", "wh_0"); err != nil {
		b.Fatal(err)
	}
	coldBuild := time.Since(t0)
	b.Logf("a cold index of the whole log was built in %s (%.0f records/s)", coldBuild.Round(time.Millisecond),
		float64(records+records/100)/coldBuild.Seconds())
	cancel()

	for _, rd := range reads {
		b.Run(rd.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				path := rd.path
				if strings.Contains(path, "%s") {
					path = fmt.Sprintf(path, probe[i%len(probe)])
				}
				t0 := time.Now()
				code, body := call(rd.method, path)
				lat = append(lat, time.Since(t0))
				if code != 200 || strings.HasPrefix(string(body), `{"data":[]`) {
					b.Fatalf("%s: %d %.300s", path, code, body)
				}
			}
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}
