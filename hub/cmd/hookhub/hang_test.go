package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestLoadingAHangingModuleEnds: hookhub validate and hookhub plugin run
// end, with a reason that names the plugin and the export, on a module whose
// hookhub_abi_version or hookhub_config_schema never returns, as serve does.
func TestLoadingAHangingModuleEnds(t *testing.T) {
	for _, c := range []struct{ file, export string }{
		{"hang-abi.wat", "hookhub_abi_version"},
		{"hang-schema.wat", "hookhub_config_schema"},
	} {
		t.Run(c.export, func(t *testing.T) {
			dir := t.TempDir()
			wasm := filepath.Join(dir, "hang.wasm")
			if err := os.WriteFile(wasm, wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/"+c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, "hookhub.json")
			if err := os.WriteFile(cfg, []byte(`{"plugins":[{"name":"hang","path":"hang.wasm"}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"validate", cfg},
				{"plugin", "run", "--event", eventFile, "--wasm", wasm},
			} {
				type outcome struct {
					errs string
					code int
				}
				done := make(chan outcome, 1)
				go func() {
					_, errs, code := runCLI(t, args...)
					done <- outcome{errs, code}
				}()
				select {
				case o := <-done:
					if o.code != 1 || !strings.Contains(o.errs, "plugins[0]: plugin ") || !strings.Contains(o.errs, ": "+c.export+": did not return within 5s") {
						t.Errorf("%s: exit %d: %s", args[0], o.code, o.errs)
					}
				case <-time.After(90 * time.Second):
					t.Fatalf("%s still runs after 90s", strings.Join(args, " "))
				}
			}
		})
	}
}
