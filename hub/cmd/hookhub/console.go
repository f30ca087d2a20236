package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
)

// runEventsGet prints one event the hub keeps (events that matched a
// webhook, for event_retention).
func runEventsGet(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("events get", "events get EVENT_ID [--account A] [--json]", stderr)
	af := addAPIFlags(fs)
	account := fs.String("account", "", "the event's account (required with the API token; an account's token: its own)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	q := ""
	if *account != "" {
		q = "?account=" + url.QueryEscape(*account)
	}
	raw, err := newAPIClient(*af.addr, *af.token).call("GET", "/v1/events/"+url.PathEscape(pos[0])+q, nil)
	if err != nil {
		return err
	}
	if *af.json {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	var v struct {
		ID, Account, Type, Stored string
		Event                     json.RawMessage
	}
	_ = json.Unmarshal(raw, &v)
	fmt.Fprintf(stdout, "event %s of account %s (%s), stored %s\n", v.ID, v.Account, v.Type, v.Stored)
	return printJSON(stdout, v.Event)
}

// previewWebhook prints the request webhook id would be sent for a kept
// event (eventID) or one read from file, sending nothing.
func previewWebhook(c *apiClient, id, eventID, file string, asJSON bool, fs *flag.FlagSet, stdout io.Writer) error {
	body := map[string]any{}
	switch {
	case (eventID == "") == (file == ""):
		fs.Usage()
		return errUsage
	case eventID != "":
		body["event_id"] = eventID
	default:
		ev, err := readFileOrStdin(file)
		if err != nil {
			return err
		}
		body["event"] = json.RawMessage(ev)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: not valid JSON", file)
	}
	raw, err := c.call("POST", "/v1/webhooks/"+url.PathEscape(id)+"/preview", b)
	if err != nil {
		return err
	}
	if asJSON {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	var p struct {
		Skipped bool
		Request *struct {
			Method, URL, Body string
			Headers           map[string][]string
		}
	}
	_ = json.Unmarshal(raw, &p)
	if p.Skipped || p.Request == nil {
		fmt.Fprintln(stdout, "skipped: the webhook's plugin drops this event; nothing would be sent")
		return nil
	}
	printRequest(stdout, p.Request.Method, p.Request.URL, p.Request.Headers, p.Request.Body)
	return nil
}

// printRequest prints a request as on the wire: the request line, the
// headers in name order, a blank line and the body.
func printRequest(w io.Writer, method, u string, headers map[string][]string, body string) {
	fmt.Fprintf(w, "%s %s\n", method, u)
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range headers[k] {
			fmt.Fprintf(w, "%s: %s\n", k, oneLine(v, 500))
		}
	}
	fmt.Fprintf(w, "\n%s\n", body)
}
