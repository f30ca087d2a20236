package benchmark

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
)

// jetStreamLimit publishes the bodies to a file-backed stream on its own
// embedded server while a pull consumer takes and acks them: messages/s of
// the two at once, with no hub logic.
func jetStreamLimit(ctx context.Context, dir string, bodies [][]byte) (float64, error) {
	s, err := bus.StartServer("none", dir)
	if err != nil {
		return 0, err
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LIMIT", Subjects: []string{"limit.>"}, Storage: jetstream.FileStorage}); err != nil {
		return 0, err
	}
	cons, err := js.CreateConsumer(ctx, "LIMIT", jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 20000})
	if err != nil {
		return 0, err
	}
	var got atomic.Int64
	done := make(chan struct{})
	n := int64(len(bodies))
	start := time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if got.Add(1) == n {
			close(done)
		}
	}, jetstream.PullMaxMessages(500))
	if err != nil {
		return 0, err
	}
	defer cc.Stop()
	for i, b := range bodies {
		msg := nats.NewMsg("limit.x")
		msg.Header.Set(jetstream.MsgIDHeader, strconv.Itoa(i))
		msg.Data = []byte(fmt.Sprintf(string(b), time.Now().UnixNano()))
		if _, err := js.PublishMsgAsync(msg); err != nil {
			return 0, err
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// httpLimit POSTs the bodies to the receivers with conns requests in flight:
// requests/s with no hub logic. The receivers read them as they read
// deliveries, but do not count them.
func httpLimit(ctx context.Context, rc *receivers, bodies [][]byte, conns int, http2 bool) (float64, error) {
	client := tlsClient(rc, conns, http2)
	defer client.CloseIdleConnections()
	url := rc.srvs[0].URL + "/limit"
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i]))
				// The headers of a signed delivery, in size: the same bytes
				// on the wire, without the work of signing them.
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "hookhub")
				req.Header.Set("Webhook-Id", "evt_bench_000000000000:w0")
				req.Header.Set("Webhook-Timestamp", "1790000000")
				req.Header.Set("Webhook-Signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=")
				resp, err := client.Do(req)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(len(bodies)) / time.Since(start).Seconds(), nil
}
