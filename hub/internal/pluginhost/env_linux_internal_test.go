package pluginhost

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestWorkerEnvironmentIsEmpty: a worker process starts with only the
// environment the host is given for it (WorkerEnv), none of the hub's own
// (its API token, the secrets its config reads with ${env:}). The guest sees
// no environment anyway: the attack is on the worker OS process, whose
// memory a module that escaped wazero could read, so this reads
// /proc/<pid>/environ.
func TestWorkerEnvironmentIsEmpty(t *testing.T) {
	const canary = "HOOKHUB_API_TOKEN"
	t.Setenv(canary, "canary-secret-7f3a")
	h := processHost(t)
	wasm := wasmtest.Build(t, "plugins/passthrough/wasm")
	if err := h.Load(context.Background(), Module{Name: "pt", Wasm: wasm, Timeout: 5 * time.Second, Instances: 1}); err != nil {
		t.Fatal(err)
	}
	ws := h.plugins["pt"].wasm.(*procPool).workers()
	if len(ws) != 1 {
		t.Fatalf("%d workers after Load, want 1", len(ws))
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(ws[0].cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	vars := bytes.Split(bytes.TrimRight(env, "\x00"), []byte{0})
	want := "HOOKHUB_TEST_PLUGIN_WORKER=1"
	if len(vars) != 1 || string(vars[0]) != want {
		t.Errorf("the worker's environment holds %d variables, want only %s", len(vars), want)
	}
	if bytes.Contains(env, []byte("canary-secret-7f3a")) || bytes.Contains(env, []byte(canary+"=")) {
		t.Errorf("the worker inherited the hub's %s", canary)
	}
}
