package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

const bucket = "hookhub_webhooks"

// startJetStream runs an embedded NATS server with JetStream for one test
// and returns a JetStream context on it.
func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// process is one hub process's worth of store: its own registry, loaded from
// cfg's file webhooks, and the bucket's.
type process struct {
	reg   *webhooks.Registry
	store *webhooks.Store
}

// openStore opens a store; with run, its watch applies changes until the
// test ends.
func openStore(t *testing.T, js jetstream.JetStream, cfg *config.Config, run bool) process {
	t.Helper()
	reg, err := webhooks.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := webhooks.OpenStore(ctx, js, bucket, 1, reg, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if run {
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- st.Run(rctx) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	return process{reg, st}
}

func runtimeHook(id string) config.Webhook {
	return config.Webhook{ID: id, Account: "acme", URL: "https://example.com/" + id, Events: []string{"contact.*"}, Secret: secret}
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStoreKeepsSecrets: without a secrets key, the bucket holds every secret
// in the clear (it is the hub's own storage), under explicit fields, never as
// "[redacted]"; a process opening the bucket later gets them back.
func TestStoreKeepsSecrets(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	a := openStore(t, js, &config.Config{}, false)
	w := runtimeHook("wh_s")
	w.Auth = &config.Auth{Type: "basic", Username: "u", Password: "pa55word"}
	w.TLSClient = &config.TLSClient{CertPEM: "the certificate", KeyPEM: "the-private-key-pem"}
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	w.PreviousSecrets = []config.PreviousSecret{{Secret: "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk", Expires: expires}}
	if err := a.store.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "wh_s")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, "pa55word", "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk", "the-private-key-pem"} {
		if !strings.Contains(string(e.Value()), s) {
			t.Errorf("the bucket lost a secret: %s", e.Value())
		}
	}

	b := openStore(t, js, &config.Config{}, false)
	got := b.reg.Get("wh_s")
	if got == nil {
		t.Fatal("a process opening the bucket later does not see the webhook")
	}
	if got.Secret.Reveal() != secret || got.Auth.Password.Reveal() != "pa55word" || got.ReadOnly {
		t.Errorf("read back: secret %q password %q read-only %v", got.Secret.Reveal(), got.Auth.Password.Reveal(), got.ReadOnly)
	}
	if got.TLSClient == nil || got.TLSClient.KeyPEM.Reveal() != "the-private-key-pem" || got.TLSClient.CertPEM != "the certificate" {
		t.Errorf("the client certificate's key was not read back")
	}
	if len(got.PreviousSecrets) != 1 || !got.PreviousSecrets[0].Expires.Equal(expires) ||
		got.PreviousSecrets[0].Secret.Reveal() != "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk" {
		t.Errorf("previous secrets read back: %+v", got.PreviousSecrets)
	}
	if n := len(got.SigningSecrets(time.Now())); n != 2 {
		t.Errorf("%d signing secrets during the grace period, want 2", n)
	}
}

// TestStoreLive: a change made by one process reaches another's registry
// within a second: create, update, delete.
func TestStoreLive(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	a := openStore(t, js, &config.Config{}, true)
	b := openStore(t, js, &config.Config{}, true)

	w := runtimeHook("wh_live")
	if err := a.store.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	if a.reg.Get("wh_live") == nil {
		t.Fatal("the creating process does not see its webhook at once")
	}
	eventually(t, time.Second, "the other process sees the new webhook", func() bool { return b.reg.Get("wh_live") != nil })

	w.Name = "renamed"
	if err := a.store.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the other process sees the update", func() bool {
		got := b.reg.Get("wh_live")
		return got != nil && got.Name == "renamed"
	})
	if got := a.reg.Get("wh_live"); got.Name != "renamed" {
		t.Errorf("after its own update the process has %q", got.Name)
	}

	if err := b.store.Delete(ctx, "wh_live"); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the other process sees the delete", func() bool { return a.reg.Get("wh_live") == nil })
	// A later watcher entry for an earlier revision is not applied over it.
	time.Sleep(100 * time.Millisecond)
	if b.reg.Get("wh_live") != nil || a.reg.Get("wh_live") != nil {
		t.Error("a deleted webhook came back")
	}
	// The id is free again.
	if err := a.store.Create(ctx, w); err != nil {
		t.Errorf("create again after delete: %v", err)
	}
}

// TestStoreConflicts: an id is created once, even by two processes that
// have not heard of each other's write; an update over a revision changed
// meanwhile is refused, not lost.
func TestStoreConflicts(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	// Neither runs its watch: each knows only its own writes.
	a := openStore(t, js, &config.Config{}, false)
	b := openStore(t, js, &config.Config{}, false)
	if err := a.store.Create(ctx, runtimeHook("wh_x")); err != nil {
		t.Fatal(err)
	}
	if err := b.store.Create(ctx, runtimeHook("wh_x")); !errors.Is(err, webhooks.ErrExists) {
		t.Errorf("second create of one id elsewhere: got %v, want ErrExists", err)
	}
	if err := a.store.Create(ctx, runtimeHook("wh_x")); !errors.Is(err, webhooks.ErrExists) {
		t.Errorf("second create of one id here: got %v, want ErrExists", err)
	}

	c := openStore(t, js, &config.Config{}, false) // knows wh_x at its first revision
	w := runtimeHook("wh_x")
	w.Name = "by a"
	if err := a.store.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	w.Name = "by c"
	if err := c.store.Update(ctx, w); !errors.Is(err, webhooks.ErrConflict) {
		t.Errorf("update over a stale revision: got %v, want ErrConflict", err)
	}
	w.Name = "by a again"
	if err := a.store.Update(ctx, w); err != nil {
		t.Errorf("update over the current revision: %v", err)
	}
	if err := a.store.Update(ctx, runtimeHook("wh_none")); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("update of an unknown id: got %v, want ErrNotFound", err)
	}
	if err := a.store.Delete(ctx, "wh_none"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("delete of an unknown id: got %v, want ErrNotFound", err)
	}
}

// TestStoreFileWebhooksReadOnly: the config file's webhooks show up beside
// the bucket's, and cannot be changed, deleted or shadowed through it.
func TestStoreFileWebhooksReadOnly(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	file := runtimeHook("from_file")
	file.Name = "file"
	cfg := &config.Config{Webhooks: []config.Webhook{file}}
	p := openStore(t, js, cfg, true)
	if err := p.store.Create(ctx, runtimeHook("wh_rt")); err != nil {
		t.Fatal(err)
	}
	if got := p.reg.Snapshot().Len(); got != 2 {
		t.Errorf("%d webhooks, want the file's and the bucket's", got)
	}
	if !p.reg.Get("from_file").ReadOnly || p.reg.Get("wh_rt").ReadOnly {
		t.Error("read-only flags wrong")
	}
	if err := p.store.Update(ctx, file); !errors.Is(err, webhooks.ErrReadOnly) {
		t.Errorf("update: got %v", err)
	}
	if err := p.store.Delete(ctx, "from_file"); !errors.Is(err, webhooks.ErrReadOnly) {
		t.Errorf("delete: got %v", err)
	}
	if err := p.store.Create(ctx, runtimeHook("from_file")); !errors.Is(err, webhooks.ErrExists) {
		t.Errorf("create over it: got %v", err)
	}

	// A process without that file webhook stored one of the same id in the
	// bucket: the file's still wins where the file has it.
	other := openStore(t, js, &config.Config{}, false)
	if err := other.store.Create(ctx, runtimeHook("from_file")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := p.reg.Get("from_file"); got == nil || !got.ReadOnly || got.Name != "file" {
		t.Errorf("the bucket shadowed the config file's webhook: %+v", got)
	}
	if got := p.reg.Snapshot().Len(); got != 2 {
		t.Errorf("%d webhooks, want 2", got)
	}
}
