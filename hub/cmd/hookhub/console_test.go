package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestConsoleCommands: hookhub events get prints a kept event; hookhub
// webhooks preview prints the request a webhook would be sent, masked, and
// sends nothing; hookhub test-send --data sends the data given.
func TestConsoleCommands(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","api_token":"tok-for-the-cli-tests","webhooks":[{"id":"wh","account":"acme","url":"`+rc.URL+`",
		"secret":"`+hubtest.Secret+`","events":["contact.*"],"headers":{"X-Api-Key":"key-of-the-cli-test"}}]}`, nil)
	cli := func(args ...string) (string, string, int) {
		return runCLI(t, append(args, "--api", h.APIURL(), "--token", "tok-for-the-cli-tests")...)
	}
	if _, err := h.JetStream().Publish(t.Context(), "hookhub.events.acme.contact.updated",
		[]byte(`{"specversion":"1.0","id":"evt_cli","source":"t","type":"contact.updated","account":"acme","data":{"email":"a@example.com"}}`)); err != nil {
		t.Fatal(err)
	}
	rc.WaitFor(t, 1, 10*time.Second)

	out, errs, code := cli("events", "get", "evt_cli", "--account", "acme")
	if code != 0 || !strings.Contains(out, "event evt_cli of account acme (contact.updated)") || !strings.Contains(out, `"email": "a@example.com"`) {
		t.Errorf("events get (exit %d): %s%s", code, out, errs)
	}
	if _, errs, code = cli("events", "get", "evt_cli"); code != 1 || !strings.Contains(errs, "account") {
		t.Errorf("events get without the account (exit %d): %s", code, errs)
	}

	out, errs, code = cli("webhooks", "preview", "wh", "--event", "evt_cli")
	if code != 0 || !strings.HasPrefix(out, "POST "+rc.URL) || !strings.Contains(out, "X-Api-Key: [redacted]") ||
		!strings.Contains(out, "Webhook-Id: evt_cli:wh") || !strings.Contains(out, `"data":{"email":"a@example.com"}`) || strings.Contains(out, "key-of-the-cli-test") {
		t.Errorf("webhooks preview (exit %d): %s%s", code, out, errs)
	}
	ev := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(ev, []byte(`{"type":"contact.created","data":{"email":"b@example.com"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errs, code = cli("webhooks", "preview", "wh", "--file", ev); code != 0 || !strings.Contains(out, `"email":"b@example.com"`) {
		t.Errorf("webhooks preview --file (exit %d): %s%s", code, out, errs)
	}
	if rc.Count() != 1 {
		t.Errorf("previews reached the receiver: %d requests", rc.Count())
	}

	data := filepath.Join(t.TempDir(), "data.json")
	if err := os.WriteFile(data, []byte(`{"email":"custom@example.com"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = cli("test-send", "wh", "--type", "contact.updated", "--data", data)
	if code != 0 || !strings.Contains(out, "delivered: 200") || !strings.Contains(out, "the request sent") ||
		!strings.Contains(string(rc.Requests()[rc.Count()-1].Body), "custom@example.com") {
		t.Errorf("test-send --data (exit %d): %s%s", code, out, errs)
	}
}

// TestEventTypesDeclareCommand: a type declared from the command line for
// an account is listed for it (and not for another), and undeclared.
func TestEventTypesDeclareCommand(t *testing.T) {
	h := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","api_token":"tok-for-the-cli-tests","accounts":[{"id":"acme"},{"id":"globex"}]}`, nil)
	cli := func(args ...string) (string, string, int) {
		return runCLI(t, append(args, "--api", h.APIURL(), "--token", "tok-for-the-cli-tests")...)
	}
	decl := filepath.Join(t.TempDir(), "decl.json")
	if err := os.WriteFile(decl, []byte(`{"title":"Invoice paid","schema":{"type":"object","required":["amount"]},"sample":{"amount":12}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := cli("event-types", "declare", "invoice.paid", "--file", decl, "--account", "acme"); code != 0 || out != "declared invoice.paid\n" {
		t.Fatalf("declare (exit %d): %s%s", code, out, errs)
	}
	if out, _, code := cli("event-types", "--account", "acme"); code != 0 || !strings.Contains(out, "invoice.paid") || !strings.Contains(out, "declared by acme") {
		t.Errorf("acme's types (exit %d) lack invoice.paid: %s", code, out)
	}
	if out, _, _ := cli("event-types", "--account", "globex"); strings.Contains(out, "invoice.paid") {
		t.Errorf("globex sees acme's declared type: %s", out)
	}
	// A sample that breaks its own schema is refused, saying where.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema":{"type":"object","required":["amount"]},"sample":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli("event-types", "declare", "invoice.voided", "--file", bad, "--account", "acme"); code == 0 || !strings.Contains(errs, "sample") {
		t.Errorf("a sample against its schema: exit %d: %s", code, errs)
	}
	if out, errs, code := cli("event-types", "undeclare", "invoice.paid", "--account", "acme"); code != 0 || out != "undeclared invoice.paid\n" {
		t.Fatalf("undeclare (exit %d): %s%s", code, out, errs)
	}
	if out, _, _ := cli("event-types", "--account", "acme"); strings.Contains(out, "invoice.paid") {
		t.Errorf("invoice.paid still listed after undeclare: %s", out)
	}
	if _, errs, code := cli("event-types", "declare", "invoice.paid"); code == 0 || !strings.Contains(errs, "--file") {
		t.Errorf("declare without --file: exit %d: %s", code, errs)
	}
}
