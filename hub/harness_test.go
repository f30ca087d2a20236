package hub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

const testSecret = hubtest.Secret

// running is a hub started for one test on a random loopback port with its
// data in a temp dir.
type running struct {
	*hub.Hub
	pub *publish.Publisher
}

// startHub runs a hub on the config JSON doc until the test ends (see
// hubtest.StartHub).
func startHub(t testing.TB, doc string, environ map[string]string, opts ...hub.Option) *running {
	t.Helper()
	h := hubtest.StartHub(t, doc, environ, opts...)
	return &running{Hub: h, pub: publish.New(h.JetStream(), "hookhub")}
}

// publish sends an event and fails the test if it is not stored.
func (r *running) publish(t *testing.T, e *event.Event) *event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if e.Source == "" {
		e.Source = "test"
	}
	if _, err := r.pub.Publish(ctx, e); err != nil {
		t.Fatalf("publish: %v", err)
	}
	return e
}

// streamMsgs reads every message of a stream (up to max), oldest first.
func (r *running) streamMsgs(t *testing.T, stream string, max int) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.JetStream().OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("consumer on %s: %v", stream, err)
	}
	var out []jetstream.Msg
	for len(out) < max {
		batch, err := c.FetchNoWait(max - len(out))
		if err != nil {
			t.Fatalf("fetch %s: %v", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, m)
			n++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			t.Fatalf("fetch %s: %v", stream, err)
		}
		if n == 0 {
			break
		}
	}
	return out
}

// waitStream waits until a stream holds at least n messages and returns them.
func (r *running) waitStream(t *testing.T, stream string, n int, timeout time.Duration) []jetstream.Msg {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := r.JetStream().Stream(ctx, stream)
		cancel()
		if err != nil {
			t.Fatalf("stream %s: %v", stream, err)
		}
		if s.CachedInfo().State.Msgs >= uint64(n) {
			return r.streamMsgs(t, stream, n+100)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s holds %d messages after %s, want %d", stream, s.CachedInfo().State.Msgs, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publishAsync publishes with an async JetStream publish, and when too many
// wait for their acks, waits for them (bounded) and tries again.
func publishAsync(t testing.TB, js jetstream.JetStream, what string, publish func() error) {
	t.Helper()
	for try := 0; ; try++ {
		err := publish()
		if err == nil {
			return
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || try == 10 {
			t.Fatalf("publish %s: %v", what, err)
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(time.Minute):
		}
	}
}

func streamName(prefix, suffix string) string { return strings.ToUpper(prefix) + "_" + suffix }

func webhookJSON(id, account, url string, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"id":%q,"account":%q,"url":%q,"secret":%q%s}`, id, account, url, testSecret, extra)
}

func publishEvent(js jetstream.JetStream, e *event.Event) (*jetstream.PubAck, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return publish.New(js, "hookhub").Publish(ctx, e)
}

func mustConfig(t *testing.T, doc string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.json", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func publishTo(h *hub.Hub) *publish.Publisher { return publish.New(h.JetStream(), "hookhub") }

// startHubErr parses a config as startHub does and returns its error.
func startHubErr(t *testing.T, doc string) (*config.Config, error) {
	t.Helper()
	return config.Parse("test.json", []byte(strings.Replace(doc, `{"webhooks"`, `{"delivery":{"allow_insecure_targets":true},"webhooks"`, 1)), nil)
}
