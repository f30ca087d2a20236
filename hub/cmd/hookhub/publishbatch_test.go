package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

func batchFile(t *testing.T, account string, ids ...string) string {
	t.Helper()
	var items []string
	for _, id := range ids {
		items = append(items, fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"cli","type":"contact.updated","account":%q,"data":{"email":"ada@example.com"}}`, id, account))
	}
	p := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(p, []byte("[\n"+strings.Join(items, ",\n")+"\n]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublishBatchFile: hookhub publish --file with a JSON array sends it as
// one batch and every event is delivered; a file with a bad event, or with
// another account's event, is refused whole before anything is sent, saying
// which event and why; a publisher logged in for acme cannot send a batch
// of beta's events.
func TestPublishBatchFile(t *testing.T) {
	const acmePassword = "acme-publisher-password"
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, `{"nats_users":[{"user":"acme-pub","password":"${env:ACME_NATS_PASSWORD}","account":"acme"}],
	 "webhooks":[{"id":"w","account":"acme","url":"`+rc.URL+`","secret":"`+hubtest.Secret+`","events":["*"]},
	             {"id":"wb","account":"beta","url":"`+rc.URL+`/beta","secret":"`+hubtest.Secret+`","events":["*"]}]}`,
		map[string]string{"ACME_NATS_PASSWORD": acmePassword})
	t.Setenv("HOOKHUB_NATS_URL", h.NATSURL())
	t.Setenv("HOOKHUB_NATS_USER", "acme-pub")
	t.Setenv("HOOKHUB_NATS_PASSWORD", acmePassword)
	t.Setenv("HOOKHUB_NATS_CREDS", "")

	mixed := batchFile(t, "acme", "evt_f0", "evt_f1")
	raw, _ := os.ReadFile(mixed)
	_ = os.WriteFile(mixed, []byte(strings.Replace(string(raw), `"id":"evt_f1","source":"cli","type":"contact.updated","account":"acme"`,
		`"id":"evt_f1","source":"cli","type":"contact.updated","account":"beta"`, 1)), 0o600)
	out, errs, code := runCLI(t, "publish", "--file", mixed)
	if code != 1 || !strings.Contains(errs, "nothing sent") || !strings.Contains(errs, `batch[1]: account "beta"`) {
		t.Errorf("a batch with another account's event (exit %d): %s%s", code, out, errs)
	}
	bad := batchFile(t, "acme", "evt_g0", "evt_g1", "evt_g2")
	raw, _ = os.ReadFile(bad)
	_ = os.WriteFile(bad, []byte(strings.Replace(string(raw), `"id":"evt_g2","source":"cli","type":"contact.updated"`, `"id":"evt_g2","source":"cli","type":"Contact Updated"`, 1)), 0o600)
	out, errs, code = runCLI(t, "publish", "--file", bad)
	if code != 1 || !strings.Contains(errs, "batch[2]: invalid event: type") {
		t.Errorf("a batch with a bad event (exit %d): %s%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "publish", "--file", batchFile(t, "beta", "evt_b0"))
	if code != 1 || !strings.Contains(errs, "refused") {
		t.Errorf("acme's publisher sending beta's batch (exit %d): %s%s", code, out, errs)
	}

	out, errs, code = runCLI(t, "publish", "--file", batchFile(t, "acme", "evt_h0", "evt_h1", "evt_h2", "evt_h3", "evt_h4"))
	if code != 0 || !strings.Contains(out, "published a batch of 5 events of account acme to hookhub.events.acme.$batch") {
		t.Fatalf("a good batch (exit %d): %s%s", code, out, errs)
	}
	reqs := rc.WaitFor(t, 5, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := rc.Count(); n != 5 {
		t.Errorf("%d requests, want the batch's 5", n)
	}
	for _, q := range reqs {
		if q.Path == "/beta" || !strings.HasPrefix(q.Header.Get("webhook-id"), "evt_h") {
			t.Errorf("delivered %s to %s: only the good batch's events should be", q.Header.Get("webhook-id"), q.Path)
		}
	}
}
