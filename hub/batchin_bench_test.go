package hub_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
)

// BenchmarkBatchIngest measures events routed per second when publishers
// send batches of 100 events (one op is one batch), over TCP on loopback:
//
//   - unmatched: the account's only webhook wants other types, so the
//     figure is the router's own cost (read, split, check, match, ack);
//   - webhook-batch-100: one webhook takes every event, in requests of 100,
//     and the op ends when every event is delivered.
//
// A fixed op count keeps one hub per run (the lead's figure, quiet machine):
//
//	go test ./hub/ -run '^$' -bench 'BatchIngest' -benchtime 1000x -count 3
func BenchmarkBatchIngest(b *testing.B) {
	for _, c := range []struct {
		name, events string
		deliver      bool
	}{
		{"unmatched", `["email.*"]`, false},
		{"webhook-batch-100", `["contact.*"]`, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			rc := hubtest.NewReceiver(b)
			doc := `{"webhooks":[{"id":"w","account":"acme","url":"` + rc.URL + `","secret":"` + hubtest.Secret + `","events":` + c.events +
				`,"batch":{"max_events":100,"max_wait":"50ms"}}]}`
			h := hubtest.StartHub(b, doc, nil)
			nc, err := nats.Connect(h.NATSURL())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
			if err != nil {
				b.Fatal(err)
			}
			const perBatch = 100
			bodies := make([][]byte, b.N)
			for i := range bodies {
				items := make([]string, perBatch)
				for j := range items {
					items[j] = fmt.Sprintf(`{"specversion":"1.0","id":"evt_%d_%d","source":"bench","type":"contact.updated","account":"acme","initiator":"api","data":{"email":"u%d@example.com","attributes":{"FIRSTNAME":"Ada"}}}`, i, j, j)
				}
				bodies[i] = []byte("[" + strings.Join(items, ",") + "]")
			}
			total := int64(b.N * perBatch)
			subject := event.BatchSubject("hookhub", "acme")
			b.ResetTimer()
			start := time.Now()
			for _, body := range bodies {
				if _, err := js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: body}); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(2 * time.Minute):
				b.Fatal("publishes not acked within 2 minutes")
			}
			deadline := time.Now().Add(5 * time.Minute)
			var routedAt time.Time
			for {
				s := h.Stats()
				if routedAt.IsZero() && s.Events >= total {
					routedAt = time.Now()
				}
				if !routedAt.IsZero() && (!c.deliver || s.Delivered >= total) {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("after 5 minutes: %d of %d events routed, %d delivered, %d rejected", s.Events, total, s.Delivered, s.Rejected)
				}
				time.Sleep(2 * time.Millisecond)
			}
			done := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(total)/routedAt.Sub(start).Seconds(), "routed_events/s")
			if c.deliver {
				b.ReportMetric(float64(total)/done.Seconds(), "delivered_events/s")
			}
			if s := h.Stats(); s.Rejected != 0 || c.deliver && s.Delivered != total {
				b.Errorf("%d rejected, %d delivered of %d", s.Rejected, s.Delivered, total)
			}
		})
	}
}
