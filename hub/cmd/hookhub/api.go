package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// apiClient talks to a hub's management API, from HOOKHUB_API_ADDR and
// HOOKHUB_API_TOKEN (or --api and --token).
type apiClient struct {
	base, token string
	http        *http.Client
}

func newAPIClient(addr, token string) *apiClient {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &apiClient{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// call sends a request; an API error becomes a Go error with its code,
// message and field.
func (c *apiClient) call(method, path string, body []byte) (json.RawMessage, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the hub's API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code, Message, Field string
				Details              []struct{ Field, Message string }
			}
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
			msg := e.Error.Code + ": " + e.Error.Message
			for _, d := range e.Error.Details[min(1, len(e.Error.Details)):] {
				msg += "\n" + d.Field + ": " + d.Message
			}
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return raw, nil
}

type apiFlags struct {
	addr, token *string
	json        *bool
}

func addAPIFlags(fs interface {
	String(string, string, string) *string
	Bool(string, bool, string) *bool
}) apiFlags {
	return apiFlags{
		addr:  fs.String("api", envOr("HOOKHUB_API_ADDR", "127.0.0.1:8080"), "the hub's management API (env HOOKHUB_API_ADDR)"),
		token: fs.String("token", os.Getenv("HOOKHUB_API_TOKEN"), "API token (env HOOKHUB_API_TOKEN)"),
		json:  fs.Bool("json", false, "print JSON, for scripts"),
	}
}

func runWebhooks(args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	fs := newFlags("webhooks "+sub, "webhooks list|get|create|update|delete|activate|deactivate|enable|rotate-secret|stats|resend|preview [ID] [flags]", stderr)
	af := addAPIFlags(fs)
	account := fs.String("account", "", "account (list: only this account's)")
	file := fs.String("file", "", "create/update: the whole webhook as JSON, from this file or - for stdin; preview: a whole event (CloudEvent JSON)")
	hookURL := fs.String("url", "", "create/update: the target URL")
	events := fs.String("events", "", "create/update: comma-separated event types or wildcards, e.g. contact.*,email.clicked")
	name := fs.String("name", "", "create/update: a name")
	id := fs.String("id", "", "create: the webhook id (default: generated)")
	eventID := fs.String("event", "", "resend: the id of the event to send again; preview: the id of a kept event")
	recoverWindow := fs.Bool("recover", false, "enable: also redrive the dead letters stranded since the webhook began failing")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	c := newAPIClient(*af.addr, *af.token)
	arg := ""
	if len(pos) > 0 {
		arg = pos[0]
	}
	needID := func() error {
		if arg == "" {
			fs.Usage()
			return errUsage
		}
		return nil
	}
	var raw json.RawMessage
	switch sub {
	case "list":
		q := ""
		if *account != "" {
			q = "?account=" + url.QueryEscape(*account)
		}
		raw, err = c.call("GET", "/v1/webhooks"+q, nil)
	case "get":
		if err := needID(); err != nil {
			return err
		}
		raw, err = c.call("GET", "/v1/webhooks/"+url.PathEscape(arg), nil)
	case "create", "update":
		var body []byte
		if *file != "" {
			if body, err = readFileOrStdin(*file); err != nil {
				return err
			}
		} else {
			m := map[string]any{}
			for k, v := range map[string]string{"id": *id, "account": *account, "url": *hookURL, "name": *name} {
				if v != "" {
					m[k] = v
				}
			}
			if *events != "" {
				m["events"] = strings.Split(*events, ",")
			}
			body, _ = json.Marshal(m)
		}
		if sub == "create" {
			raw, err = c.call("POST", "/v1/webhooks", body)
		} else {
			if err := needID(); err != nil {
				return err
			}
			// A whole webhook from a file replaces it; flags change only
			// the fields they name (a JSON merge patch).
			method := "PATCH"
			if *file != "" {
				method = "PUT"
			}
			raw, err = c.call(method, "/v1/webhooks/"+url.PathEscape(arg), body)
		}
	case "delete":
		if err := needID(); err != nil {
			return err
		}
		if _, err = c.call("DELETE", "/v1/webhooks/"+url.PathEscape(arg), nil); err == nil {
			fmt.Fprintf(stdout, "deleted %s\n", arg)
		}
		return err
	case "activate", "deactivate", "enable", "rotate-secret":
		if err := needID(); err != nil {
			return err
		}
		path := "/v1/webhooks/" + url.PathEscape(arg) + "/" + sub
		if sub == "enable" && *recoverWindow {
			path += "?recover=true"
		}
		raw, err = c.call("POST", path, nil)
		if err == nil && sub == "enable" && !*af.json {
			var one struct {
				Stranded *struct {
					Since       string `json:"since"`
					DeadLetters int    `json:"dead_letters"`
					Redriven    *int   `json:"redriven"`
				} `json:"stranded"`
			}
			_ = json.Unmarshal(raw, &one)
			fmt.Fprintf(stdout, "enabled %s\n", arg)
			if st := one.Stranded; st != nil && st.Redriven != nil {
				fmt.Fprintf(stdout, "redriven %d dead letters stranded since %s\n", *st.Redriven, st.Since)
			} else if st != nil && st.DeadLetters > 0 {
				fmt.Fprintf(stdout, "%d dead letters were stranded since %s; to send them: hookhub dlq redrive %s --since %s\n", st.DeadLetters, st.Since, arg, st.Since)
			}
			return nil
		}
		if err == nil && sub == "rotate-secret" && !*af.json {
			var one map[string]any
			_ = json.Unmarshal(raw, &one)
			fmt.Fprintf(stdout, "new signing secret of %s, shown this once: %v\nthe old one signs too for 24h\n", arg, one["secret"])
			return nil
		}
	case "preview":
		if err := needID(); err != nil {
			return err
		}
		return previewWebhook(c, arg, *eventID, *file, *af.json, fs, stdout)
	case "stats", "resend":
		if err := needID(); err != nil {
			return err
		}
		if sub == "stats" {
			raw, err = c.call("GET", "/v1/webhooks/"+url.PathEscape(arg)+"/stats", nil)
		} else {
			if *eventID == "" {
				fs.Usage()
				return errUsage
			}
			body, _ := json.Marshal(map[string]string{"event_id": *eventID})
			raw, err = c.call("POST", "/v1/webhooks/"+url.PathEscape(arg)+"/resend", body)
		}
		if err != nil {
			return err
		}
		if sub == "stats" {
			return printStats(stdout, raw, *af.json)
		}
		return printJSON(stdout, raw)
	default:
		fs.Usage()
		return errUsage
	}
	if err != nil {
		return err
	}
	if *af.json {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	var list struct{ Data []map[string]any }
	if sub == "list" {
		_ = json.Unmarshal(raw, &list)
	} else {
		var one map[string]any
		_ = json.Unmarshal(raw, &one)
		list.Data = []map[string]any{one}
		if sub == "create" {
			fmt.Fprintf(stdout, "created %v; its signing secret, shown this once: %v\n\n", one["id"], one["secret"])
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tACTIVE\tEVENTS\tURL\tSOURCE")
	for _, w := range list.Data {
		active := w["active"] != false && w["disabled"] != true
		src := "api"
		if w["read_only"] == true {
			src = "config"
		}
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%s\n", w["id"], w["account"], active, joinAny(w["events"]), w["url"], src)
	}
	return tw.Flush()
}

// printStats prints a webhook's stats as a table of figures, or the API's
// JSON with asJSON.
func printStats(stdout io.Writer, raw []byte, asJSON bool) error {
	if asJSON {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	var st map[string]any
	_ = json.Unmarshal(raw, &st)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTEMPTS\tDELIVERED\tFAILED\tDEAD LETTERED\tSKIPPED")
	for _, w := range []struct {
		name string
		m    map[string]any
	}{{"last hour", asMap(st["last_hour"])}, {"last day", asMap(st["last_day"])}, {fmt.Sprintf("since %v", st["since"]), st}} {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%v\n", w.name, w.m["delivered"], w.m["failed"], w.m["dead_lettered"], w.m["skipped"])
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "PENDING JOBS\tPENDING RETRIES\tDEAD LETTERS\tLAST SUCCESS\tLAST FAILURE")
	fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\n", st["pending_jobs"], st["pending_retries"], st["dead_letters"], orDash(st["last_success"]), orDash(st["last_failure"]))
	return tw.Flush()
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func joinAny(v any) string {
	list, _ := v.([]any)
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func runDLQ(args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	fs := newFlags("dlq "+sub, "dlq list WEBHOOK | get SEQ | redrive WEBHOOK [--since TIME] [--until TIME] | redrive --seq N", stderr)
	af := addAPIFlags(fs)
	seq := fs.Int("seq", 0, "redrive: only this dead letter")
	since := fs.String("since", "", "redrive: only those failed since this RFC 3339 time")
	until := fs.String("until", "", "redrive: only those failed before this RFC 3339 time")
	limit := fs.Int("limit", 50, "list: how many")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	c := newAPIClient(*af.addr, *af.token)
	hook := ""
	if len(pos) > 0 {
		hook = pos[0]
	}
	switch {
	case sub == "list" && hook != "":
		raw, err := c.call("GET", fmt.Sprintf("/v1/webhooks/%s/dead-letters?limit=%d", url.PathEscape(hook), *limit), nil)
		if err != nil {
			return err
		}
		return printList(stdout, raw, *af.json, "SEQ\tJOB\tATTEMPTS\tFAILED AT\tREASON", func(d map[string]any) string {
			return fmt.Sprintf("%v\t%v\t%v\t%v\t%v", d["seq"], d["job"], d["attempts"], d["failed_at"], d["reason"])
		})
	case sub == "get" && hook != "":
		raw, err := c.call("GET", "/v1/dead-letters/"+url.PathEscape(hook), nil)
		if err != nil {
			return err
		}
		return printJSON(stdout, raw)
	case sub == "redrive" && *seq > 0:
		_, err := c.call("POST", fmt.Sprintf("/v1/dead-letters/%d/redrive", *seq), nil)
		if err == nil {
			fmt.Fprintf(stdout, "redrove dead letter %d\n", *seq)
		}
		return err
	case sub == "redrive" && hook != "":
		q := url.Values{}
		if *since != "" {
			q.Set("since", *since)
		}
		if *until != "" {
			q.Set("until", *until)
		}
		path := "/v1/webhooks/" + url.PathEscape(hook) + "/dead-letters/redrive"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		raw, err := c.call("POST", path, nil)
		if err != nil {
			return err
		}
		var r struct{ Redriven int }
		_ = json.Unmarshal(raw, &r)
		fmt.Fprintf(stdout, "redrove %d dead letters of %s\n", r.Redriven, hook)
		return nil
	}
	fs.Usage()
	return errUsage
}

func runAttempts(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(stderr, "Usage: hookhub attempts list WEBHOOK [--outcome delivered|retrying|dead|skipped|failed] [--limit N] [--json]")
		return errUsage
	}
	fs := newFlags("attempts list", "attempts list WEBHOOK [flags]", stderr)
	af := addAPIFlags(fs)
	outcome := fs.String("outcome", "", "only this outcome")
	limit := fs.Int("limit", 50, "how many, newest first")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	q := fmt.Sprintf("?limit=%d", *limit)
	if *outcome != "" {
		q += "&outcome=" + url.QueryEscape(*outcome)
	}
	raw, err := newAPIClient(*af.addr, *af.token).call("GET", "/v1/webhooks/"+url.PathEscape(pos[0])+"/attempts"+q, nil)
	if err != nil {
		return err
	}
	return printList(stdout, raw, *af.json, "AT\tJOB\tATTEMPT\tOUTCOME\tSTATUS\tLATENCY MS\tERROR", func(a map[string]any) string {
		outcome := fmt.Sprint(a["outcome"])
		if a["test"] == true {
			outcome = "TEST " + outcome // a test send: counted in no figure
		}
		return fmt.Sprintf("%v\t%v\t%v\t%v\t%v\t%v\t%v", a["at"], a["job"], a["attempt"], outcome, orDash(a["status"]), a["latency_ms"], orDash(a["error"]))
	})
}

// printList prints an API list answer: as it came with --json, otherwise a
// table of header (tab-separated) and one row per item.
func printList(w io.Writer, raw []byte, asJSON bool, header string, row func(map[string]any) string) error {
	if asJSON {
		_, err := w.Write(append(raw, '\n'))
		return err
	}
	var list struct{ Data []map[string]any }
	_ = json.Unmarshal(raw, &list)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range list.Data {
		fmt.Fprintln(tw, row(it))
	}
	return tw.Flush()
}

func orDash(v any) any {
	if v == nil || v == "" {
		return "-"
	}
	return v
}

func readFileOrStdin(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	}
	return os.ReadFile(file)
}

func printJSON(w io.Writer, raw []byte) error {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		_, err := w.Write(raw)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runTestSend(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("test-send", "test-send WEBHOOK --type EVENT_TYPE [--data FILE] [--json]", stderr)
	af := addAPIFlags(fs)
	typ := fs.String("type", "", "event type whose catalog sample to send, e.g. email.clicked")
	dataFile := fs.String("data", "", "the event's data as JSON, from this file or - for stdin, instead of the catalog's sample")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *typ == "" {
		fs.Usage()
		return errUsage
	}
	req := map[string]any{"event_type": *typ}
	if *dataFile != "" {
		data, err := readFileOrStdin(*dataFile)
		if err != nil {
			return err
		}
		if !json.Valid(data) {
			return fmt.Errorf("--data %s: not valid JSON", *dataFile)
		}
		req["data"] = json.RawMessage(data)
	}
	body, _ := json.Marshal(req)
	raw, err := newAPIClient(*af.addr, *af.token).call("POST", "/v1/webhooks/"+url.PathEscape(pos[0])+"/test", body)
	if err != nil {
		return err
	}
	if *af.json {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	var r struct {
		Delivered, Skipped bool
		Status             int
		LatencyMS          float64 `json:"latency_ms"`
		Error, Response    string
		Request            *struct {
			Method, URL, Body string
			Headers           map[string][]string
		}
	}
	_ = json.Unmarshal(raw, &r)
	defer func() {
		if q := r.Request; q != nil {
			fmt.Fprintln(stdout, "\nthe request sent (credentials masked):")
			printRequest(stdout, q.Method, q.URL, q.Headers, q.Body)
		}
	}()
	switch {
	case r.Skipped:
		fmt.Fprintln(stdout, "skipped: the webhook's plugin drops this event; nothing was sent")
	case r.Delivered:
		fmt.Fprintf(stdout, "delivered: %d in %.1f ms\n%s\n", r.Status, r.LatencyMS, r.Response)
	default:
		fmt.Fprintf(stdout, "failed: %s (%.1f ms)\n%s\n", r.Error, r.LatencyMS, r.Response)
		return errors.New("the test send failed")
	}
	return nil
}

func runEventTypes(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("event-types", "event-types [TYPE] [--category C] [--search WORDS] [--account A] [--json] | declare TYPE --file DECL.json [--account A] | undeclare TYPE [--account A]", stderr)
	af := addAPIFlags(fs)
	category := fs.String("category", "", "only this category (marketing, transactional, contact, ...)")
	search := fs.String("search", "", "only types whose name, title, description or also-known-as names hold these words (\"link clicked\", complaint)")
	account := fs.String("account", "", "with the admin token: also this account's declared types (* for every account's); declare, undeclare: for this account (default: the token's account, or the whole hub)")
	file := fs.String("file", "", "declare: the declaration as JSON ({\"schema\": ..., \"sample\": ..., \"title\": ...}), from this file or - for stdin")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	c := newAPIClient(*af.addr, *af.token)
	q := url.Values{}
	if *account != "" {
		q.Set("account", *account)
	}
	if len(pos) > 0 && (pos[0] == "declare" || pos[0] == "undeclare") {
		if len(pos) != 2 {
			return fmt.Errorf("event-types %s: name one type (event-types %s invoice.paid)", pos[0], pos[0])
		}
		path := "/v1/event-types/" + url.PathEscape(pos[1])
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		if pos[0] == "undeclare" {
			if _, err := c.call("DELETE", path, nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "undeclared %s\n", pos[1])
			return nil
		}
		if *file == "" {
			return fmt.Errorf("event-types declare: --file names the declaration (a JSON object with schema and sample)")
		}
		body, err := readFileOrStdin(*file)
		if err != nil {
			return fmt.Errorf("event-types declare: %w", err)
		}
		raw, err := c.call("PUT", path, body)
		if err != nil {
			return err
		}
		if *af.json {
			return printJSON(stdout, raw)
		}
		fmt.Fprintf(stdout, "declared %s\n", pos[1])
		return nil
	}
	if len(pos) == 1 {
		path := "/v1/event-types/" + url.PathEscape(pos[0])
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		raw, err := c.call("GET", path, nil)
		if err != nil {
			return err
		}
		return printJSON(stdout, raw)
	}
	if *category != "" {
		q.Set("category", *category)
	}
	if *search != "" {
		q.Set("q", *search)
	}
	path := "/v1/event-types"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	raw, err := c.call("GET", path, nil)
	if err != nil {
		return err
	}
	return printList(stdout, raw, *af.json, "TYPE\tCATEGORY\tTITLE\tALSO KNOWN AS", func(t map[string]any) string {
		title := fmt.Sprint(t["title"])
		if t["custom"] == true {
			title += " (declared"
			if a, _ := t["account"].(string); a != "" {
				title += " by " + a
			}
			title += ")"
		}
		var aka []string
		if as, ok := t["aliases"].([]any); ok {
			for _, a := range as {
				aka = append(aka, fmt.Sprint(a))
			}
		}
		return fmt.Sprintf("%v\t%v\t%s\t%s", t["type"], t["category"], title, strings.Join(aka, ", "))
	})
}
