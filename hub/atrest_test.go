package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
)

const (
	restKey1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	restKey2 = "HxwdHhobGBkWFxQVEhMQEQ4PDA0KCwgJBgcEBQIDAAE="
	// restURL is in no secret: finding it in the files shows they are not
	// encrypted.
	restURL = "http://127.0.0.1:9/url-marker-of-the-at-rest-test"
)

// hubOn runs a hub on dataDir with secrets_key keys ("" for none) and the
// API, until stop.
func hubOn(t *testing.T, dataDir, keys string) (h *hub.Hub, stop func()) {
	t.Helper()
	m := map[string]any{"data_dir": dataDir, "nats_listen": "127.0.0.1:-1", "api_addr": "127.0.0.1:0",
		"api_token": apiToken, "delivery": map[string]any{"allow_insecure_targets": true}}
	if keys != "" {
		m["secrets_key"] = keys
	}
	doc, _ := json.Marshal(m)
	cfg, err := config.Parse("test.json", doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err = hub.New(cfg, hub.WithLogger(zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)))
	if err != nil {
		t.Fatalf("hub.New on %s with keys %d: %v", filepath.Base(dataDir), strings.Count(keys, ",")+1, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("hub.Run did not return within 30s of cancel")
		}
		_ = h.Close()
	}
	t.Cleanup(stop)
	return h, stop
}

func apiCall(t *testing.T, h *hub.Hub, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, h.APIURL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// filesHolding lists the files under dir that contain any of needles.
func filesHolding(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var found []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				found = append(found, strings.TrimPrefix(path, dir))
				break
			}
		}
		return nil
	})
	return found
}

// TestSecretsAtRestInDataDir: with secrets_key, a webhook created through
// the API leaves its secret in no file of the data dir, live or deleted, and
// the embedded server's files are encrypted as a whole. Rotating the key
// (a new one first, then the old one dropped) keeps everything readable.
// Without a key the same search finds the secret (the search works), until a
// key is given.
func TestSecretsAtRestInDataDir(t *testing.T) {
	create := func(t *testing.T, h *hub.Hub, id string) string {
		t.Helper()
		code, m := apiCall(t, h, "POST", "/v1/webhooks", `{"id":"`+id+`","account":"acme","url":"`+restURL+`","events":["contact.*"]}`)
		secret, _ := m["secret"].(string)
		if code != 201 || !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("create %s: %d %v", id, code, m)
		}
		return secret
	}
	t.Run("without a key", func(t *testing.T) {
		dir := t.TempDir()
		h, stop := hubOn(t, dir, "")
		secret := create(t, h, "wh_clear")
		stop()
		if len(filesHolding(t, dir, secret)) == 0 {
			t.Error("the search did not find a secret stored in clear")
		}
		// A key given later: the files are encrypted and the secret
		// sealed at the next start.
		h, stop = hubOn(t, dir, restKey1)
		if got := h.Snapshot().Get("wh_clear"); got == nil || got.Secret.Reveal() != secret {
			t.Error("after a key is given, the webhook stored in clear is not read")
		}
		stop()
		if f := filesHolding(t, dir, secret, strings.TrimPrefix(secret, "whsec_"), restURL); len(f) > 0 {
			t.Errorf("after a key is given, files hold the secret or the webhook in clear: %v", f)
		}
	})
	t.Run("with a key", func(t *testing.T) {
		dir := t.TempDir()
		h, stop := hubOn(t, dir, restKey1)
		kept := create(t, h, "wh_kept")
		gone := create(t, h, "wh_gone")
		if code, _ := apiCall(t, h, "DELETE", "/v1/webhooks/wh_gone", ""); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		stop()
		needles := []string{kept, gone, strings.TrimPrefix(kept, "whsec_"), strings.TrimPrefix(gone, "whsec_"), restURL}
		if f := filesHolding(t, dir, needles...); len(f) > 0 {
			t.Errorf("with secrets_key, files hold a secret or the webhook in clear: %v", f)
		}

		// A new key first: the old one still opens the files and the
		// secrets, which are sealed anew.
		h, stop = hubOn(t, dir, restKey2+","+restKey1)
		if code, m := apiCall(t, h, "GET", "/v1/webhooks/wh_kept", ""); code != 200 || m["url"] != restURL {
			t.Fatalf("after adding a new first key: %d %v", code, m)
		}
		stop()
		// The old key dropped: the new one alone reads everything.
		h, stop = hubOn(t, dir, restKey2)
		if code, m := apiCall(t, h, "GET", "/v1/webhooks/wh_kept", ""); code != 200 || m["url"] != restURL {
			t.Fatalf("after dropping the old key: %d %v", code, m)
		}
		if got := h.Snapshot().Get("wh_kept"); got == nil || got.Secret.Reveal() != kept {
			t.Error("after the rotation the webhook's secret is not the one created")
		}
		stop()
		if f := filesHolding(t, dir, needles...); len(f) > 0 {
			t.Errorf("after the rotation, files hold a secret or the webhook in clear: %v", f)
		}
	})
}

// TestSecretsRotationAfterEvents: a key rotation after events went through
// (so the router's and the deliverer's consumers have files written with the
// old key) starts, and delivers, with the new key first and then alone.
// nats-server re-keys a stream's files but not a consumer's; before the fix
// the second start failed: "consumer router on HOOKHUB_EVENTS: error creating
// store for consumer".
func TestSecretsRotationAfterEvents(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	dir := t.TempDir()
	send := func(t *testing.T, h *hub.Hub, id string, want int) {
		t.Helper()
		code, m := apiCall(t, h, "POST", "/v1/events", `{"specversion":"1.0","id":"`+id+`","source":"/rotation","type":"contact.created","account":"acme","data":{"email":"a@example.com"}}`)
		if code != 202 {
			t.Fatalf("publish %s: %d %v", id, code, m)
		}
		rc.WaitFor(t, want, 10*time.Second)
	}
	h, stop := hubOn(t, dir, restKey1)
	if code, m := apiCall(t, h, "POST", "/v1/webhooks", `{"id":"wh_rot","account":"acme","url":"`+rc.URL+`","events":["contact.*"]}`); code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	send(t, h, "evt_rot_1", 1)
	stop()
	h, stop = hubOn(t, dir, restKey2+","+restKey1)
	send(t, h, "evt_rot_2", 2)
	stop()
	h, stop = hubOn(t, dir, restKey2)
	send(t, h, "evt_rot_3", 3)
	stop()
	if n := rc.Count(); n != 3 {
		t.Errorf("receiver got %d deliveries, want 3 (one per event)", n)
	}
}
