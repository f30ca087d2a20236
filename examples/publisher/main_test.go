package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// Test_main publishes with the example against a real hub and checks the
// event is delivered.
func Test_main(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, `{"webhooks":[{"id":"wh","account":"acme","url":"`+rc.URL+`","events":["contact.updated"],"lists":["15"],"secret":"`+hubtest.Secret+`"}]}`, nil)
	var out bytes.Buffer
	if err := run(h.NATSURL(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "published contact.updated as evt_") {
		t.Errorf("printed %q", out.String())
	}
	req := rc.WaitFor(t, 1, 15*time.Second)[0]
	if !strings.Contains(string(req.Body), `"FIRSTNAME":"Ada"`) {
		t.Errorf("delivered body %s", req.Body)
	}
}
