package plugins_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/plugins"
)

// taskCommands returns the shell commands of one task in ../taskfile.yml: the
// items of its cmds list, written either as a block list or as [one, line].
func taskCommands(t *testing.T, raw []byte, task string) []string {
	t.Helper()
	lines := strings.Split(string(raw), "\n")
	var cmds []string
	in, inCmds := false, false
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 2 && strings.HasSuffix(trimmed, ":"):
			in = trimmed == task+":"
			inCmds = false
		case !in:
		case indent == 4 && strings.HasPrefix(trimmed, "cmds:"):
			rest := strings.TrimSpace(strings.TrimPrefix(trimmed, "cmds:"))
			if strings.HasPrefix(rest, "[") {
				cmds = append(cmds, strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"))
			} else {
				inCmds = true
			}
		case indent == 4:
			inCmds = false
		case inCmds && strings.HasPrefix(trimmed, "- "):
			cmds = append(cmds, strings.TrimPrefix(trimmed, "- "))
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("taskfile.yml: task %q has no cmds", task)
	}
	return cmds
}

// TestTaskPluginsBuildsEveryPlugin runs `task plugins`'s commands as written in
// taskfile.yml (with bash, from the repository's root, without the task
// binary), writing to a temporary folder instead of bin/plugins, and checks
// that they succeed and leave one WebAssembly module per first-party plugin.
func TestTaskPluginsBuildsEveryPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every first-party plugin to wasm")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "taskfile.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := taskCommands(t, raw, "plugins")
	out := t.TempDir()
	script := "set -e\n"
	for _, c := range cmds {
		if !strings.Contains(c, "bin/plugins") {
			t.Fatalf("taskfile.yml: plugins command %q does not write to bin/plugins", c)
		}
		script += strings.ReplaceAll(c, "bin/plugins", out) + "\n"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("task plugins: %v\n%s\nscript:\n%s", err, b, script)
	}
	names := slices.Collect(maps.Keys(plugins.FirstParty))
	for _, name := range append(names, plugins.Sandboxed...) {
		b, err := os.ReadFile(filepath.Join(out, name+".wasm"))
		if err != nil {
			t.Errorf("task plugins did not build %s: %v", name, err)
			continue
		}
		if !bytes.HasPrefix(b, []byte("\x00asm")) {
			t.Errorf("%s.wasm is not a WebAssembly module (starts %q)", name, b[:min(len(b), 8)])
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".wasm")
		if _, ok := plugins.FirstParty[name]; !ok && !slices.Contains(plugins.Sandboxed, name) {
			t.Errorf("task plugins built %s, which is no first-party plugin", e.Name())
		}
	}
}
