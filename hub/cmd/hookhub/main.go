// Command hookhub runs the webhook hub and talks to it.
//
//	hookhub [serve]          run the hub (embedded NATS JetStream unless HOOKHUB_NATS_URL is set)
//	hookhub demo             run the hub on examples/hookhub.json with a local receiver
//	hookhub publish ...      publish one event
//	hookhub validate FILE    check a config file
//	hookhub secret [--v1a]   print a new signing secret (or v1a key)
//	hookhub version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

type command struct {
	name, usage, summary string
	run                  func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve", "run the hub (the default)", runServe},
		{"demo", "demo", "run the hub on examples/hookhub.json with a local receiver that prints what arrives", runDemo},
		{"publish", "publish [flags]", "publish one event, or a batch (--file with a JSON array), to the hub's NATS", runPublish},
		{"webhooks", "webhooks list|get|create|...", "manage webhooks through the hub's API (HOOKHUB_API_ADDR, HOOKHUB_API_TOKEN)", runWebhooks},
		{"dlq", "dlq list|get|redrive", "list, inspect and redrive dead letters", runDLQ},
		{"events", "events rejected|get", "the events the hub refused, with the reason, newest first; one event the hub keeps", runEvents},
		{"event-types", "event-types [TYPE] | declare | undeclare", "the event-type catalog, one type's schema and sample, or declare and undeclare types of your own", runEventTypes},
		{"deliveries", "deliveries list WEBHOOK", "the attempt log of a webhook, newest first (also: attempts)", runAttempts},
		{"attempts", "attempts list WEBHOOK", "the same as deliveries", runAttempts},
		{"test-send", "test-send WEBHOOK --type T", "send the catalog's sample of an event type to a webhook now", runTestSend},
		{"plugin", "plugin run|test|bench|new", "plugin tools: a dry run of a plugin on an event; golden-file tests; per-call timing; a new project per language", runPlugin},
		{"bench", "bench [flags]", "measure a complete hub and this machine's limits (--json for machines)", runBench},
		{"validate", "validate FILE", "check a config file against its schema and rules, without starting", runValidate},
		{"secret", "secret", "print a new Standard Webhooks signing secret (whsec_...), or with --v1a an ed25519 signing key (whsk_...)", runSecret},
		{"version", "version", "print the version", runVersion},
	}
}

// errUsage asks main to exit 2 without printing more.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(stdout)
		return 0
	}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(args, stdout, stderr)
			switch {
			case err == nil, errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			default:
				fmt.Fprintln(stderr, "hookhub "+name+": "+strings.ReplaceAll(err.Error(), "\n", "\n  "))
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "hookhub: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "hookhub: an outbound-webhook hub on NATS JetStream\n\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  hookhub %-22s %s\n", c.usage, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hookhub COMMAND --help' for a command's flags. Settings come from HOOKHUB_ environment\nvariables and the config file named by HOOKHUB_CONFIG; see the README.")
}

func newFlags(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hookhub %s\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (hookhub webhooks get ID --json), and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
