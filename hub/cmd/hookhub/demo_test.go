package main

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/sdk/signature"
)

// lockedBuffer is an io.Writer the receiver's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoReceiverSaysWhyItRefuses: the demo's receiver, on a port of its
// own (--receiver), takes a request signed with the example secret, and for
// one it refuses prints the path, the webhook-id, the status and the reason,
// never a secret.
func TestDemoReceiverSaysWhyItRefuses(t *testing.T) {
	cfg, err := config.Load("../../../examples/hookhub.json", map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	d := &demoReceiver{out: &out}
	stop, err := d.start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	url := cfg.Webhooks[0].URL // pointed at the receiver's port
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(url, ":9999") {
		t.Fatalf("the example webhook's URL %s does not point at --receiver's port", url)
	}
	exampleSecret := cfg.Webhooks[0].Secret.Reveal()
	good, _ := signature.ParseSecret(exampleSecret)
	other, _ := signature.NewSecret()
	body := []byte(`{"type":"contact.updated","account":"acme","data":{}}`)
	send := func(s *signature.Secret, id string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if s != nil {
			now := time.Now()
			req.Header.Set(signature.HeaderID, id)
			req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
			req.Header.Set(signature.HeaderSignature, signature.Sign(*s, id, now, body))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(&good, "evt_1:wh_crm"); code != http.StatusNoContent {
		t.Errorf("signed with the example secret: %d, want 204", code)
	}
	if code := send(&other, "evt_2:wh_crm"); code != http.StatusUnauthorized {
		t.Errorf("signed with another secret: %d, want 401", code)
	}
	if code := send(nil, ""); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}
	printed := out.String()
	for _, want := range []string{
		"<- received contact.updated for account acme, webhook-id evt_1:wh_crm: signature verified",
		`<- refused POST /webhooks/crm, webhook-id "evt_2:wh_crm": 401 signature: `,
		`<- refused POST /webhooks/crm, webhook-id "": 401 signature: `,
		"missing webhook headers",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("the receiver printed:\n%s\nwant it to hold %q", printed, want)
		}
	}
	for _, s := range []string{exampleSecret, other.Reveal()} {
		if strings.Contains(printed, s) || strings.Contains(printed, strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("the receiver printed a secret:\n%s", printed)
		}
	}
}
