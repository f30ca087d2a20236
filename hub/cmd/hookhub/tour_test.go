package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tourExpect says what the README's tour promises each of its commands
// prints: every command of the tour matches one entry (by a piece of its
// text, first match wins), and its output must hold each of out.
var tourExpect = []struct {
	cmd string
	out []string
}{
	// A quick tour.
	{"hookhub publish --account acme --type contact.updated", []string{"published contact.updated evt_"}},
	// The management API.
	{`J="Content-Type: application/json"`, nil},
	{`-d '{"id":"wh_tour"`, []string{`"id":"wh_tour"`, `"secret":"whsec_`}},
	{"webhooks?account=acme", []string{`"id":"wh_tour"`, `"read_only":true`}},
	{"-X PATCH", []string{`"deal.*"`}},
	{"wh_tour/deactivate", []string{`"active":false`}},
	{"wh_tour/activate", []string{`"active":true`}},
	{"wh_tour/rotate-secret", []string{`"secret":"whsec_`}},
	{"wh_tour/test", []string{`"delivered":true`}},
	{"events/evt_tour_1/attempts", []string{`{"data":[`}}, // before "/v1/events": first match wins
	{"events/evt_tour_1?account=acme", []string{`"id":"evt_tour_1"`, `"account":"acme"`}},
	{"wh_tour/preview", []string{`"method":"POST"`, `"matches":true`}},
	{"/v1/accounts", []string{`"acme"`}},
	{"/v1/events", []string{`"id":"evt_tour_1"`}},
	{"attempts?limit=20", []string{`"test":true`, `"outcome":"delivered"`}},
	{"attempts?outcome=dead", []string{`{"data":[],"has_more":false}`}},
	{"wh_tour/dead-letters/redrive", []string{`"redriven":0`}},
	{"wh_tour/dead-letters", []string{`{"data":[],"has_more":false}`}},
	{"wh_tour/resend", []string{`"job":"evt_tour_1:wh_tour"`}},
	{"wh_tour/stats", []string{`"delivered":`, `"pending_jobs":`}},
	{"rejected-events", []string{`{"data":[],"has_more":false}`}},
	{"event-types?category=marketing", []string{`"category":"marketing"`}},
	{"event-types?q=link+clicked", []string{`"email.clicked"`}},
	{"event-types/ticket.opened", []string{`"ticket.opened"`}},
	{"/metrics", []string{"hookhub_deliveries_total"}},
	{"/ip-ranges", []string{`"egress_ranges"`}},
	{"-X DELETE", nil},
	// The same from the command line.
	{"webhooks create --id wh_cli", []string{"created wh_cli; its signing secret, shown this once: whsec_"}},
	{"webhooks list --account acme", []string{"wh_cli", "wh_crm"}},
	{"webhooks rotate-secret wh_cli", []string{"new signing secret of wh_cli, shown this once: whsec_"}},
	{"test-send wh_cli", []string{"delivered: 204"}},
	{"deliveries list wh_cli", []string{"TEST delivered"}},
	{"webhooks preview wh_cli", []string{"POST"}},
	{"events get evt_tour_1", []string{"evt_tour_1"}},
	{"dlq list wh_cli", []string{"redrove 0 dead letters of wh_cli"}},
	{"events rejected --account acme", []string{"REASON"}},
	{"event-types declare ticket.closed", []string{"declared ticket.closed"}},
	{"/portal-links", []string{`"path":"/portal/enter?t=`, `"account":"acme"`}},
	{"event-types undeclare ticket.closed", []string{"undeclared ticket.closed"}},
	{"webhooks delete wh_cli", []string{"deleted wh_cli"}},
	// Plugins.
	{"--plugin form", []string{"Content-Type: application/x-www-form-urlencoded", "contact[email]="}},
	{"--webhook wh_crm", []string{"/webhooks/crm", `"type":"contact.updated"`}},
}

// tourWaits is what the demo's terminal shows once a block of the tour has
// run, as the README says: the reader looks for it before the next block.
var tourWaits = []struct {
	block string // a piece of the block's text
	shows *regexp.Regexp
}{
	{"hookhub publish --account acme", regexp.MustCompile(`<- received contact\.updated for account acme, webhook-id evt_\w+:wh_crm: signature verified\n`)},
	{"wh_tour/test", regexp.MustCompile(`webhook-id test_evt_\w+:wh_tour: signature verified \(a test send\)`)},
	{"wh_tour/test", regexp.MustCompile(`webhook-id evt_tour_1:wh_tour: signature verified`)},
	{"test-send wh_cli", regexp.MustCompile(`webhook-id test_evt_\w+:wh_cli: signature verified \(a test send\)`)},
}

// assignment is a line that only sets shell variables.
var assignment = regexp.MustCompile(`^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=`)

// shBlocks returns the text of each ```sh block of markdown, in order.
func shBlocks(markdown string) []string {
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(markdown, "\n") {
		switch {
		case cur == nil && line == "```sh":
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// tourCommands splits a block into its commands: a line ending in a
// backslash goes on, and comment-only lines are left out.
func tourCommands(block string) []string {
	var cmds []string
	var cur string
	for _, line := range strings.Split(block, "\n") {
		if cur == "" && (strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\")
			continue
		}
		cmds = append(cmds, cur+line)
		cur = ""
	}
	return cmds
}

// demoOutput collects what a demo prints and lets a test wait for a line.
type demoOutput struct {
	mu      sync.Mutex
	text    strings.Builder
	changed chan struct{}
}

func (d *demoOutput) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		d.mu.Lock()
		d.text.WriteString(sc.Text() + "\n")
		d.mu.Unlock()
		select {
		case d.changed <- struct{}{}:
		default:
		}
	}
}

func (d *demoOutput) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text.String()
}

// waitFor waits until re matches the output and returns the first
// submatch, failing the test after 30 s.
func (d *demoOutput) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if m := re.FindStringSubmatch(d.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-d.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("the demo did not print %q within 30s; it printed:\n%s", re, d.String())
		}
	}
}

// TestREADMETour runs the README's tour as a reader would: it starts the demo
// (the README's first command) on free loopback ports, then runs every later
// ```sh block of README.md in order with bash, command by command, from the
// repository's root. Each command must exit 0 (curl with --fail-with-body:
// an HTTP error fails it) and print what the README promises; between the
// blocks, the demo must show what the README says arrives; and the demo's
// receiver must refuse nothing. The README's own text keeps the default
// addresses: the test points them at the demo's ports, as the environment
// variables the README names do.
func TestREADMETour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookhub and runs the demo")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	bin, err := buildHookhub()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlocks(string(readme))
	if len(blocks) < 2 || !strings.HasPrefix(blocks[0], "go run ./hub/cmd/hookhub demo") {
		t.Fatalf("README.md: want a first sh block that starts the demo, then the tour; got %d blocks", len(blocks))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := startDemo(t, bin, root, "10ms", "")
	recv := out.waitFor(t, regexp.MustCompile(`demo receiver listening on http://(127\.0\.0\.1:\d+)\n`))
	api := out.waitFor(t, regexp.MustCompile(`management API on http://(127\.0\.0\.1:\d+)\n`))
	natsURL := out.waitFor(t, regexp.MustCompile(`NATS for publishers on (nats://127\.0\.0\.1:\d+)\n`))
	out.waitFor(t, regexp.MustCompile(`The demo's events are out`))

	binDir := filepath.Dir(bin)
	shellEnv := append(envWithoutHookhub(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOOKHUB_API_ADDR=http://"+api, "HOOKHUB_NATS_URL="+natsURL)
	localize := strings.NewReplacer(
		"go run ./hub/cmd/hookhub", "hookhub", // the same program, built once
		"localhost:8080", api, "127.0.0.1:9999", recv)
	prelude := "set -eo pipefail\ncurl() { command curl --fail-with-body --max-time 20 \"$@\"; }\n"
	ran := 0
	for bi, block := range blocks[1:] {
		for _, cmd := range tourCommands(block) {
			var want []string
			matched := false
			for _, e := range tourExpect {
				if strings.Contains(cmd, e.cmd) {
					want, matched = e.out, true
					break
				}
			}
			if !matched {
				t.Errorf("README.md, sh block %d: the test does not know what %q should print; add it to tourExpect", bi+2, cmd)
			}
			if assignment.MatchString(cmd) {
				prelude += cmd + "\n" // shell variables the later commands use
				continue
			}
			ran++
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			sh := exec.CommandContext(cctx, "bash", "-c", prelude+localize.Replace(cmd))
			sh.Dir, sh.Env = root, shellEnv
			got, err := sh.CombinedOutput()
			ccancel()
			if err != nil {
				t.Fatalf("README.md, sh block %d: %s\nfailed: %v\n%s\nthe demo printed:\n%s", bi+2, cmd, err, got, out.String())
			}
			for _, w := range want {
				if !strings.Contains(string(got), w) {
					t.Errorf("README.md, sh block %d: %s\nprinted:\n%s\nwant it to hold %q", bi+2, cmd, got, w)
				}
			}
		}
		for _, w := range tourWaits {
			if strings.Contains(block, w.block) {
				out.waitFor(t, w.shows)
			}
		}
	}
	t.Logf("ran the %d commands of the README's tour", ran)
	if strings.Contains(out.String(), "<- refused") {
		t.Errorf("the demo's receiver refused requests:\n%s", out.String())
	}
}

// startDemo runs the built demo from the repository root on random loopback
// ports, with an environment free of the caller's HOOKHUB_ settings plus
// env, and stops it (SIGINT, then a clean exit checked) when the test ends;
// then neither its stdout nor its stderr may hold token (when set). Its
// stdout is read into the returned demoOutput.
func startDemo(t *testing.T, bin, root, interval, token string, env ...string) *demoOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	demo := exec.CommandContext(ctx, bin, "demo", "--receiver", "127.0.0.1:0", "--interval", interval)
	demo.Dir = root
	demo.Env = append(append(envWithoutHookhub(), "HOOKHUB_DATA_DIR="+t.TempDir(), "HOOKHUB_API_ADDR=127.0.0.1:0",
		"HOOKHUB_NATS_LISTEN=127.0.0.1:-1", "HOOKHUB_LOG_LEVEL=warn"), env...)
	demo.Cancel = func() error { return demo.Process.Signal(syscall.SIGINT) }
	demo.WaitDelay = 15 * time.Second
	stdout, err := demo.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	demo.Stderr = stderr
	if err := demo.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	out := &demoOutput{changed: make(chan struct{}, 1)}
	read := make(chan struct{})
	go func() { out.read(stdout); close(read) }()
	t.Cleanup(func() {
		defer cancel()
		_ = demo.Process.Signal(syscall.SIGINT)
		<-read
		if err := demo.Wait(); err != nil {
			t.Errorf("the demo did not stop cleanly: %v\n%s", err, stderr.String())
		}
		if token != "" && strings.Contains(out.String()+stderr.String(), token) {
			t.Error("the demo printed the API token")
		}
	})
	return out
}

// envWithoutHookhub is this process's environment without the caller's
// HOOKHUB_ settings.
func envWithoutHookhub() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKHUB_") {
			env = append(env, kv)
		}
	}
	return env
}
