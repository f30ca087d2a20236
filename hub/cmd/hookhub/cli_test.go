package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

const eventFile = "../../../examples/plugin/testdata/event.json"

func TestPluginRunDryRun(t *testing.T) {
	out, errs, code := runCLI(t, "plugin", "run", "--event", eventFile, "--plugin", "form")
	if code != 0 || !strings.Contains(out, "Content-Type: application/x-www-form-urlencoded") ||
		!strings.Contains(out, "contact[email]=ada%40example.com") || !strings.Contains(out, "Webhook-Signature: v1,") {
		t.Errorf("form dry run (exit %d):\n%s%s", code, out, errs)
	}
	out, _, code = runCLI(t, "plugin", "run", "--event", eventFile, "--plugin", "mapper", "--plugin-config", `{"filter":{"field":"initiator","equals":"user"}}`)
	if code != 0 || !strings.HasPrefix(out, "skipped:") {
		t.Errorf("mapper filter dry run (exit %d): %s", code, out)
	}
	out, _, code = runCLI(t, "plugin", "run", "--event", eventFile, "--config", "../../../examples/hookhub.json", "--webhook", "wh_crm")
	if code != 0 || !strings.Contains(out, "POST http://127.0.0.1:9999/webhooks/crm") || !strings.Contains(out, `"initiator":"api"`) {
		t.Errorf("config webhook dry run (exit %d): %s", code, out)
	}
	_, errs, code = runCLI(t, "plugin", "run", "--event", eventFile, "--plugin", "mapper", "--plugin-config", `{"filter":{"nope":1}}`)
	if code != 1 || !strings.Contains(errs, "webhooks[0].plugin.config") {
		t.Errorf("bad plugin config (exit %d): %s", code, errs)
	}
	if testing.Short() {
		return // the wasm dry run compiles a module: slow under the race detector
	}
	wasm := filepath.Join(t.TempDir(), "crm.wasm")
	if err := os.WriteFile(wasm, wasmtest.Build(t, "examples/plugin"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI(t, "plugin", "run", "--event", eventFile, "--wasm", wasm)
	if code != 0 || !strings.Contains(out, "X-Event-Type: contact.updated") {
		t.Errorf("wasm dry run (exit %d): %s%s", code, out, errs)
	}
}

func TestValidateCommand(t *testing.T) {
	out, _, code := runCLI(t, "validate", "../../../examples/hookhub.json")
	if code != 0 || !strings.Contains(out, "valid (3 webhooks") {
		t.Errorf("validate example (exit %d): %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"webhooks":[{"id":"a","account":"acme","url":"http://x.example.com/","events":["*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","plugin":{"name":"nope"}}]}`), 0o600)
	_, errs, code := runCLI(t, "validate", bad)
	if code != 1 || !strings.Contains(errs, "webhooks[0].url: must use https") {
		t.Errorf("validate bad (exit %d): %s", code, errs)
	}
	// Event names against the catalog, with a hint; lists that cannot
	// match are a warning, not an error.
	names := filepath.Join(t.TempDir(), "names.json")
	_ = os.WriteFile(names, []byte(`{"webhooks":[{"id":"a","account":"acme","url":"https://x.example.com/","events":["email.clickd","contact"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}`), 0o600)
	_, errs, code = runCLI(t, "validate", names)
	if code != 1 || !strings.Contains(errs, `webhooks[0].events[0]: "email.clickd" is not an event type (did you mean "email.clicked"`) ||
		!strings.Contains(errs, `webhooks[0].events[1]: "contact" is not an event type (did you mean "contact.*"?)`) {
		t.Errorf("validate names (exit %d): %s", code, errs)
	}
	_ = os.WriteFile(names, []byte(`{"webhooks":[{"id":"a","account":"acme","url":"https://x.example.com/","events":["deal.*"],"lists":["12"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}`), 0o600)
	out, errs, code = runCLI(t, "validate", names)
	if code != 0 || !strings.Contains(out, "valid") || !strings.Contains(errs, "warning: ") || !strings.Contains(errs, "webhooks[0].lists: can never match") {
		t.Errorf("validate lists over deal.* (exit %d): %s%s", code, out, errs)
	}
	_, _, code = runCLI(t, "nonsense")
	if code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}
