package webhooks_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

const (
	key1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	key2 = "HxwdHhobGBkWFxQVEhMQEQ4PDA0KCwgJBgcEBQIDAAE="
	key3 = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k="
)

// sealedHook has a value in every secret field of stored.
func sealedHook(id string) (config.Webhook, []string) {
	w := runtimeHook(id)
	w.Secret = config.Secret("whsec_" + base64.StdEncoding.EncodeToString([]byte("secret-for-"+id+"-in-sealing-tests")))
	w.Auth = &config.Auth{Type: "basic", Password: config.Secret("password-of-" + id), Token: config.Secret("token-of-" + id),
		ClientSecret: config.Secret("client-secret-of-" + id)}
	w.PreviousSecrets = []config.PreviousSecret{{Secret: config.Secret("whsec_" + base64.StdEncoding.EncodeToString([]byte("previous-secret-of-"+id))), Expires: time.Now().Add(time.Hour)}}
	w.TLSClient = &config.TLSClient{CertPEM: "-----BEGIN CERTIFICATE-----", KeyPEM: config.Secret("-----BEGIN PRIVATE KEY----- key-of-" + id)}
	secrets := []string{w.Secret.Reveal(), strings.TrimPrefix(w.Secret.Reveal(), "whsec_"), w.Auth.Password.Reveal(), w.Auth.Token.Reveal(),
		w.Auth.ClientSecret.Reveal(), w.PreviousSecrets[0].Secret.Reveal(), w.TLSClient.KeyPEM.Reveal()}
	return w, secrets
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func keyed(keys string) *config.Config { return &config.Config{SecretsKey: config.Secret(keys)} }

func keyID(t *testing.T, keys string) string {
	t.Helper()
	k, err := keyed(keys).SecretsKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k[0].ID
}

func rawEntry(t *testing.T, js jetstream.JetStream, id string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return e.Value()
}

func showsAny(b []byte, secrets []string) string {
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			return s
		}
	}
	return ""
}

// TestStoreSealsSecrets: with a secrets key, what a NATS client reads from
// the bucket holds none of a webhook's secrets; a process with the key reads
// them all back.
func TestStoreSealsSecrets(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	a := openStore(t, js, keyed(key1), false)
	w, secrets := sealedHook("wh_sealed")
	if err := a.store.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	raw := rawEntry(t, js, "wh_sealed")
	if s := showsAny(raw, secrets); s != "" {
		t.Errorf("the bucket shows the secret %q: %s", s, raw)
	}
	if n := bytes.Count(raw, []byte("enc:v1:"+keyID(t, key1)+":")); n != 6 {
		t.Errorf("%d values sealed with the key, want 6: %s", n, raw)
	}
	b := openStore(t, js, keyed(key1), false)
	got := b.reg.Get("wh_sealed")
	if got == nil {
		t.Fatal("a process with the key does not see the webhook")
	}
	if got.Secret != w.Secret || got.Auth.Password != w.Auth.Password || got.Auth.Token != w.Auth.Token ||
		got.Auth.ClientSecret != w.Auth.ClientSecret || got.PreviousSecrets[0].Secret != w.PreviousSecrets[0].Secret ||
		got.TLSClient.KeyPEM != w.TLSClient.KeyPEM {
		t.Error("secrets read back differ from those stored")
	}
}

// TestStoreSealBindsWebhookAndField: a sealed value copied into another
// webhook's record, or another field, does not open there.
func TestStoreSealBindsWebhookAndField(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	a := openStore(t, js, keyed(key1), false)
	wa, _ := sealedHook("wh_a")
	wb, _ := sealedHook("wh_b")
	for _, w := range []config.Webhook{wa, wb} {
		if err := a.store.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	var ra, rb map[string]any
	_ = json.Unmarshal(rawEntry(t, js, "wh_a"), &ra)
	_ = json.Unmarshal(rawEntry(t, js, "wh_b"), &rb)
	kv, _ := js.KeyValue(ctx, bucket)
	rb["secret_value"] = ra["secret_value"] // a's secret into b
	ra["secret_value"] = ra["token_value"]  // a's token as its secret
	for id, rec := range map[string]map[string]any{"wh_a": ra, "wh_b": rb} {
		doc, _ := json.Marshal(rec)
		if _, err := kv.Put(ctx, id, doc); err != nil {
			t.Fatal(err)
		}
	}
	var logs lockedBuffer
	reg, err := webhooks.NewRegistry(keyed(key1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webhooks.OpenStore(ctx, js, bucket, 1, reg, keyed(key1), zerolog.New(&logs)); err != nil {
		t.Fatal(err)
	}
	if reg.Get("wh_a") != nil || reg.Get("wh_b") != nil {
		t.Error("a webhook with a sealed value moved from elsewhere was loaded")
	}
	if n := strings.Count(logs.String(), "unreadable webhook"); n != 2 {
		t.Errorf("%d unreadable webhooks logged, want 2:\n%s", n, logs.String())
	}
}

// TestStoreSecretsKeyRotation: with a new key put first, a hub seals every
// webhook with it at start (and each write after); then the old key can go.
// A webhook sealed with a key no longer given is not loaded, and the log
// says so without a secret.
func TestStoreSecretsKeyRotation(t *testing.T) {
	js := startJetStream(t)
	ctx := context.Background()
	// One sealed with key1, then one written in clear by a hub without a
	// key (which cannot read the first).
	old, oldSecrets := sealedHook("wh_old")
	if err := openStore(t, js, keyed(key1), false).store.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	plain, plainSecrets := sealedHook("wh_plain")
	if err := openStore(t, js, &config.Config{}, false).store.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if raw := rawEntry(t, js, "wh_plain"); showsAny(raw, plainSecrets) == "" {
		t.Fatalf("without a key the secrets are stored in clear: %s", raw)
	}

	p := openStore(t, js, keyed(key2+","+key1), false)
	for id, secrets := range map[string][]string{"wh_plain": plainSecrets, "wh_old": oldSecrets} {
		raw := rawEntry(t, js, id)
		if s := showsAny(raw, secrets); s != "" || bytes.Count(raw, []byte("enc:v1:"+keyID(t, key2)+":")) != 6 {
			t.Errorf("%s after a start with a new first key: %s", id, raw)
		}
		if p.reg.Get(id) == nil {
			t.Errorf("%s not loaded with the new key first", id)
		}
	}

	q := openStore(t, js, keyed(key2), false)
	if got := q.reg.Get("wh_old"); got == nil || got.Secret != old.Secret {
		t.Error("after the rotation the new key alone does not read the webhooks")
	}

	var logs lockedBuffer
	reg, _ := webhooks.NewRegistry(keyed(key3))
	if _, err := webhooks.OpenStore(ctx, js, bucket, 1, reg, keyed(key3), zerolog.New(&logs)); err != nil {
		t.Fatal(err)
	}
	if reg.Get("wh_old") != nil {
		t.Error("a webhook opened without its key")
	}
	if l := logs.String(); !strings.Contains(l, "does not hold") || showsAny([]byte(l), oldSecrets) != "" || strings.Contains(l, key2) {
		t.Errorf("log of a webhook under an unknown key:\n%s", l)
	}
}

// TestStoreDeleteErases: a deleted webhook's secrets are in no revision the
// bucket keeps; with a secrets key, in none of its files either (without one,
// the bytes of removed revisions stay until JetStream compacts the block).
func TestStoreDeleteErases(t *testing.T) {
	dir := t.TempDir()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	a := openStore(t, js, keyed(key1), false)
	w, secrets := sealedHook("wh_gone")
	if err := a.store.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	// wh_gone2 gets a new secret before it goes: no revision may keep either.
	w2, secrets2 := sealedHook("wh_gone2")
	if err := a.store.Create(ctx, w2); err != nil {
		t.Fatal(err)
	}
	w2.Secret = config.Secret("whsec_" + base64.StdEncoding.EncodeToString([]byte("new-secret-of-wh_gone2")))
	secrets2 = append(secrets2, w2.Secret.Reveal())
	if err := a.store.Update(ctx, w2); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Delete(ctx, "wh_gone"); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Delete(ctx, "wh_gone2"); err != nil {
		t.Fatal(err)
	}
	kv, _ := js.KeyValue(ctx, bucket)
	for _, id := range []string{"wh_gone", "wh_gone2"} {
		hist, err := kv.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hist {
			if e.Operation() == jetstream.KeyValuePut {
				t.Errorf("%s: revision %d still held after the delete", id, e.Revision())
			}
		}
	}
	nc.Close()
	s.Shutdown()
	s.WaitForShutdown()
	all := append(secrets, secrets2...)
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if s := showsAny(b, all); s != "" {
			t.Errorf("%s still holds the deleted webhook's secret %q", strings.TrimPrefix(path, dir), s)
		}
		return nil
	})
}
