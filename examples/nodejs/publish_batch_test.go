package nodejs

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestNatsJSBatchPublisher: a batch of 50 events published by nats.js in
// one message, as the README says, is delivered as 50 signed requests.
func TestNatsJSBatchPublisher(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: this test needs Node.js and `npm install` in examples/nodejs")
	}
	if _, err := os.Stat("node_modules/nats"); err != nil {
		t.Skip("nats.js is not installed: run `npm install` in examples/nodejs (CI does)")
	}
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, `{"webhooks":[{"id":"wh","account":"acme","url":"`+rc.URL+`","events":["contact.*"],"secret":"`+hubtest.Secret+`"}]}`, nil)
	out, err := exec.Command(node, "publish-batch.mjs", h.NATSURL(), "evt_jsb_", "50").CombinedOutput()
	if err != nil {
		t.Fatalf("node publish-batch.mjs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "published a batch of 50 events") {
		t.Errorf("node printed %q", out)
	}
	reqs := rc.WaitFor(t, 50, 20*time.Second)
	wh, _ := standardwebhooks.NewWebhook(hubtest.Secret)
	seen := map[string]bool{}
	for _, req := range reqs {
		if err := wh.Verify(req.Body, req.Header); err != nil {
			t.Errorf("official verifier: %v", err)
		}
		seen[req.Header.Get("webhook-id")] = true
	}
	for i := range 50 {
		if id := fmt.Sprintf("evt_jsb_%d:wh", i); !seen[id] {
			t.Errorf("%s not delivered", id)
		}
	}
}
