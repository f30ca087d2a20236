package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// runEvents: hookhub events rejected|get.
func runEvents(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "rejected":
		return runEventsRejected(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "get":
		return runEventsGet(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, "Usage: hookhub events rejected [--account A] [--limit N] [--json]\n       hookhub events get EVENT_ID [--account A] [--json]")
	return errUsage
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
	return printList(stdout, raw, *af.json, "TIME\tACCOUNT\tEVENT\tREASON", func(e map[string]any) string {
		return fmt.Sprintf("%v\t%v\t%v\t%s", e["time"], orDash(e["account"]), orDash(e["event_id"]), oneLine(fmt.Sprint(e["reason"]), 200))
	})
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
