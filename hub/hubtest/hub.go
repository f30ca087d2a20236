package hubtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// Secret is the Standard Webhooks spec's example secret, used by test webhooks.
const Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// PluginCache is the plugin cache every hub StartHub starts shares (see
// hub.WithPluginCache): the same folder for every test binary and run on the
// machine, so the js engine is built, and each module compiled, once.
// It is wasmtest.CacheDir, where tests keep the modules they build.
var PluginCache = wasmtest.CacheDir

// StartHub runs a hub on the config JSON doc until the test ends: an
// embedded JetStream on a random loopback port with its data in a temp dir,
// insecure targets allowed (loopback receivers), no API, unless doc says
// otherwise. opts go to hub.New after the test logger and the shared plugin
// cache (a WithPluginCache among opts wins).
func StartHub(t testing.TB, doc string, environ map[string]string, opts ...hub.Option) *hub.Hub {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("test config: %v", err)
	}
	setDefault(m, "data_dir", t.TempDir())
	setDefault(m, "nats_listen", "127.0.0.1:-1")
	setDefault(m, "api_addr", "off")
	d, _ := m["delivery"].(map[string]any)
	if d == nil {
		d = map[string]any{}
		m["delivery"] = d
	}
	setDefault(d, "allow_insecure_targets", true)
	raw, _ := json.Marshal(m)
	cfg, err := config.Parse("test.json", raw, environ)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	h, err := hub.New(cfg, append([]hub.Option{hub.WithLogger(log), hub.WithPluginCache(PluginCache)}, opts...)...)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hub.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("hub.Run did not return within 30s of cancel")
		}
		_ = h.Close()
	})
	return h
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// PublishUntilStored publishes e, retrying for up to within while the hub or
// NATS is away, as a publisher should through a failure (Nats-Msg-Id makes
// the retries harmless).
func PublishUntilStored(p *publish.Publisher, e *event.Event, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := p.Publish(ctx, e)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
