package pluginhost_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
)

// workerEnv makes this test binary serve as a plugin worker (see TestMain).
const workerEnv = "HOOKHUB_TEST_PLUGIN_WORKER"

// TestMain serves as a plugin worker when the host under test starts this
// binary as one; else it runs the tests.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := pluginhost.ServeWorker(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// modes are the isolations a sandbox test runs in.
var modes = []string{pluginhost.IsolationInProcess, pluginhost.IsolationProcess}

// newHostIn returns a host whose modules run in the given isolation: in
// process mode, its workers are this test binary.
func newHostIn(t testing.TB, mode string) *pluginhost.Host {
	t.Helper()
	o := pluginhost.Options{CacheDir: t.TempDir(), Log: zerolog.Nop()}
	if mode == pluginhost.IsolationProcess {
		o.WorkerCommand = []string{os.Args[0]}
		o.WorkerEnv = []string{workerEnv + "=1"}
		o.Isolation = mode
	}
	h, err := pluginhost.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}
