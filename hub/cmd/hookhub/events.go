package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
)

// runEvents: hookhub events rejected.
func runEvents(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rejected" {
		fmt.Fprintln(stderr, "Usage: hookhub events rejected [--account A] [--limit N] [--json]")
		return errUsage
	}
	return runEventsRejected(args[1:], stdout, stderr)
}

// runEventsRejected lists the events the hub refused, newest first.
func runEventsRejected(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("events rejected", "events rejected [--account A] [--limit N] [--json]", stderr)
	af := addAPIFlags(fs)
	account := fs.String("account", "", "only this account's")
	limit := fs.Int("limit", 50, "how many, newest first")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return errUsage
	}
	q := fmt.Sprintf("?limit=%d", *limit)
	if *account != "" {
		q += "&account=" + url.QueryEscape(*account)
	}
	raw, err := newAPIClient(*af.addr, *af.token).call("GET", "/v1/rejected-events"+q, nil)
	if err != nil {
		return err
	}
	if *af.json {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	var list struct{ Data []map[string]any }
	_ = json.Unmarshal(raw, &list)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACCOUNT\tEVENT\tREASON")
	for _, e := range list.Data {
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\n", e["time"], orDash(e["account"]), orDash(e["event_id"]), oneLine(fmt.Sprint(e["reason"]), 200))
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line: control characters become
// spaces, and it is cut at max bytes.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
