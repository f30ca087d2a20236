package benchmark

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	publisher "github.com/hookhub/hookhub/sdk/publish"
)

// apiClients is how many HTTP clients publish through the API at once: each
// has one request in flight (a keep-alive connection each), so the hub's
// API sees that many concurrent POSTs and no more.
const apiClients = 32

// pacer spaces events open loop at rate per second (rate 0: no wait).
type pacer struct {
	start    time.Time
	interval time.Duration
}

func newPacer(rate int) pacer {
	p := pacer{start: time.Now()}
	if rate > 0 {
		p.interval = time.Second / time.Duration(rate)
	}
	return p
}

// wait until event i is due.
func (p pacer) wait(ctx context.Context, i int) error {
	if p.interval <= 0 {
		return ctx.Err()
	}
	if d := time.Until(p.start.Add(time.Duration(i) * p.interval)); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

// fill makes event i's body, noting when it was sent.
func fill(tmpl []byte, i int, sent []atomic.Int64) []byte {
	now := time.Now().UnixNano()
	sent[i].Store(now)
	return []byte(fmt.Sprintf(string(tmpl), now))
}

// publish sends the events over NATS, open loop at rate per second when
// rate > 0, and notes when it sent each in sent.
func publish(ctx context.Context, js jetstream.JetStream, bodies [][]byte, groups, rate int, sent []atomic.Int64) error {
	p := newPacer(rate)
	for i, tmpl := range bodies {
		if err := p.wait(ctx, i); err != nil {
			return err
		}
		account := accountName(i%groups, groups)
		m := nats.NewMsg("hookhub.events." + account + ".contact.updated")
		m.Header.Set(jetstream.MsgIDHeader, publisher.MsgID(account, "b"+strconv.Itoa(i)))
		m.Data = fill(tmpl, i, sent)
		// A busy hub can keep the server from acking at once: when too many
		// publishes wait, wait for them, then go on (bounded by ctx).
		for {
			_, err := js.PublishMsgAsync(m)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return err
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publishAPI sends the events through the hub's POST /v1/events, from
// apiClients clients at once (each one request in flight), open loop at
// rate per second when rate > 0 (a client late for its event sends it at
// once). Every answer but 202 is an error.
func publishAPI(ctx context.Context, apiURL, token string, bodies [][]byte, rate int, sent []atomic.Int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: apiClients, MaxConnsPerHost: apiClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	p := newPacer(rate)
	var next atomic.Int64
	var once sync.Once
	var firstErr error
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	var wg sync.WaitGroup
	for range apiClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || p.wait(ctx, i) != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/v1/events", bytes.NewReader(fill(bodies[i], i, sent)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					fail(fmt.Errorf("POST /v1/events: %w", err))
					return
				}
				msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					fail(fmt.Errorf("POST /v1/events: %s: %s", resp.Status, msg))
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
