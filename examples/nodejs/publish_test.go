// Package nodejs checks that an outside NATS client, nats.js, can publish to
// hookhub with only what the README says, and that the official Standard
// Webhooks library verifies what arrives.
package nodejs

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub/hubtest"
)

func TestNatsJSPublisher(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: this test needs Node.js and `npm install` in examples/nodejs")
	}
	if _, err := os.Stat("node_modules/nats"); err != nil {
		t.Skip("nats.js is not installed: run `npm install` in examples/nodejs (CI does)")
	}
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, `{"webhooks":[{"id":"wh","account":"acme","url":"`+rc.URL+`","events":["contact.*"],"secret":"`+hubtest.Secret+`"}]}`, nil)
	out, err := exec.Command(node, "publish.mjs", h.NATSURL(), "evt_js_1").CombinedOutput()
	if err != nil {
		t.Fatalf("node publish.mjs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "published evt_js_1") {
		t.Errorf("node printed %q", out)
	}
	req := rc.WaitFor(t, 1, 15*time.Second)[0]
	wh, _ := standardwebhooks.NewWebhook(hubtest.Secret)
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Errorf("official verifier: %v", err)
	}
	if req.Header.Get("webhook-id") != "evt_js_1:wh" {
		t.Errorf("webhook-id = %q", req.Header.Get("webhook-id"))
	}
}
