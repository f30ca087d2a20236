package hub_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
)

// BenchmarkEndToEnd publishes b.N events of ~1 KiB and waits until a loopback
// HTTPS receiver has them all: signed deliveries/s through the whole pipeline.
//
//	go test -run '^$' -bench EndToEnd -benchtime 20000x ./hub/
func BenchmarkEndToEnd(b *testing.B) {
	rc := hubtest.NewTLSReceiver(b)
	doc := fmt.Sprintf(`{"delivery":{"ca_file":%q,"per_webhook_concurrency":64},"webhooks":[%s]}`, rc.CAFile(b),
		webhookJSON("bench", "acme", rc.URL, `"events":["contact.*"]`))
	h := hubtest.StartHub(b, doc, nil)
	js := h.JetStream()
	data := json.RawMessage(`{"email":"ada@example.com","attributes":{"NOTE":"` + strings.Repeat("x", 850) + `"}}`)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		e := &event.Event{SpecVersion: "1.0", ID: fmt.Sprintf("evt_%d", i), Source: "bench", Type: "contact.updated",
			Account: "acme", Initiator: "api", Data: data}
		raw, _ := json.Marshal(e)
		m := nats.NewMsg(e.NATSSubject("hookhub"))
		m.Header.Set("Nats-Msg-Id", e.ID)
		m.Data = raw
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	if testing.Verbose() {
		for _, name := range []string{"HOOKHUB_EVENTS", "HOOKHUB_DELIVERIES"} {
			s, _ := js.Stream(b.Context(), name)
			b.Logf("after %s of publishing: %s holds %d, received %d", time.Since(start), name, s.CachedInfo().State.Msgs, rc.Count())
		}
	}
	rc.WaitFor(b, b.N, 5*time.Minute)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
