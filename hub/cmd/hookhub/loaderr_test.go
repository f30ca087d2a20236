package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestValidateMissingImportIsOneError: a plugin that imports what the host
// does not provide (AssemblyScript's default env.abort) fails validate with
// one error naming the plugin, its path (relative to the config file) and
// the fix, not also a consequential "unknown plugin" for its webhook.
func TestValidateMissingImportIsOneError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "as.wasm"), wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/abort-import.wat"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "hookhub.json")
	_ = os.WriteFile(cfg, []byte(`{"plugins":[{"name":"as","path":"as.wasm"}],
		"webhooks":[{"id":"a","account":"acme","url":"https://x.example.com/","events":["*"],
		"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","plugin":{"name":"as"}}]}`), 0o600)
	_, errs, code := runCLI(t, "validate", cfg)
	if code != 1 || strings.Count(errs, "plugin as") != 1 || strings.Contains(errs, "unknown plugin") ||
		!strings.Contains(errs, "plugins[0]: plugin as (as.wasm): imports env.abort, which the hub does not provide") ||
		!strings.Contains(errs, "--use abort=") {
		t.Errorf("validate (exit %d), want one error for plugins[0] naming env.abort and the fix:\n%s", code, errs)
	}
}
