package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestEventsRejectedCommand: hookhub events rejected lists the events the
// hub refused, with their id, account and reason; an account's token sees
// its own only.
func TestEventsRejectedCommand(t *testing.T) {
	h := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","api_token":"tok-for-the-cli-tests",
		"accounts":[{"id":"acme","api_token":"acme-tok-for-the-cli"},{"id":"globex"}]}`, nil)
	for subject, body := range map[string]string{
		"hookhub.events.acme.contact.updated":   `{"specversion":"1.0","id":"evt_bad_acme","source":"t","type":"contact.updated","account":"acme","data":{"email":7}}`,
		"hookhub.events.globex.contact.updated": `{"specversion":"1.0","id":"evt_bad_globex","source":"t","type":"contact.updated","account":"acme","data":{}}`,
	} {
		if _, err := h.JetStream().Publish(t.Context(), subject, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	cli := func(token string, args ...string) (string, string, int) {
		return runCLI(t, append(args, "--api", h.APIURL(), "--token", token)...)
	}
	hubtest.Eventually(t, 20*time.Second, "both rejected events listed", func() bool {
		out, _, code := cli("tok-for-the-cli-tests", "events", "rejected")
		return code == 0 && strings.Contains(out, "evt_bad_acme") && strings.Contains(out, "evt_bad_globex")
	})
	out, errs, code := cli("acme-tok-for-the-cli", "events", "rejected")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "acme") ||
		!strings.Contains(lines[1], "evt_bad_acme") || !strings.Contains(lines[1], "data.email") {
		t.Errorf("acme's rejected events (exit %d): %s%s", code, out, errs)
	}
	out, _, code = cli("tok-for-the-cli-tests", "events", "rejected", "--account", "globex", "--json")
	var list struct{ Data []map[string]any }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Data) != 1 || list.Data[0]["event_id"] != "evt_bad_globex" {
		t.Errorf("--account globex --json (exit %d): %s", code, out)
	}
	if _, errs, code = cli("acme-tok-for-the-cli", "events", "rejected", "--account", "globex"); code != 1 || !strings.Contains(errs, "forbidden") {
		t.Errorf("acme asks for globex's (exit %d): %s", code, errs)
	}
}
