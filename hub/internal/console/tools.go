package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The Test screen (/console/webhooks/{id}/test) and the Plugin preview
// screen (/console/webhooks/{id}/preview) of a webhook. Both call the API
// as the session (POST /v1/webhooks/{id}/test with a payload, POST
// /v1/webhooks/{id}/preview with an event id), so another account's webhook
// is not found here as it is not found there.

func (c *Console) toolRoutes() {
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}/test", c.authed(c.testScreen))
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}/preview", c.authed(c.previewScreen))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/preview", c.authed(c.previewSend))
}

// pair is one header value, for a sorted listing.
type pair struct{ Name, Value string }

func pairs(h map[string][]string) []pair {
	out := make([]pair, 0, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, pair{k, v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// requestView is a request as the API shows it (credentials masked).
type requestView struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// HeaderList is its headers, sorted by name.
func (v requestView) HeaderList() []pair { return pairs(v.Headers) }

// testSent is the API's answer to a test send with a payload.
type testSent struct {
	testResult
	ResponseHeaders map[string][]string `json:"response_headers"`
	EventID         string              `json:"event_id"`
	Request         *requestView        `json:"request"`
}

// ResponseHeaderList is the receiver's answer's headers, sorted by name.
func (t testSent) ResponseHeaderList() []pair { return pairs(t.ResponseHeaders) }

// testForm is what the Test screen shows.
type testForm struct {
	Hook         hook
	Subscribed   []string // the types the webhook subscribes to
	Others       []string // the other types the session may send
	Type         string
	Payload      string
	TypeError    string
	PayloadError string
	Problem      string
	Result       *testSent
}

// testTypes are the types the session may test-send to h: those it
// subscribes to first, then the rest of its account's (no hookhub.*).
func (c *Console) testTypes(r *http.Request, s *session, h hook) (subscribed, others []string, err error) {
	ts, err := c.eventTypes(r, s, h.Account)
	for _, t := range ts {
		switch {
		case strings.HasPrefix(t.Type, "hookhub."):
		case wants(h.Events, t.Type):
			subscribed = append(subscribed, t.Type)
		default:
			others = append(others, t.Type)
		}
	}
	return subscribed, others, err
}

// sample is typ's catalog sample for account, indented, or "".
func (c *Console) sample(r *http.Request, s *session, account, typ string) string {
	res := c.call(r.Context(), r, s, http.MethodGet, "/v1/event-types/"+url.PathEscape(typ)+"?account="+url.QueryEscape(account), nil)
	var t struct {
		Sample json.RawMessage `json:"sample"`
	}
	if res.status != http.StatusOK || json.Unmarshal(res.body, &t) != nil || len(t.Sample) == 0 {
		return ""
	}
	var out bytes.Buffer
	if json.Indent(&out, t.Sample, "", "  ") != nil {
		return string(t.Sample)
	}
	return out.String()
}

// testPage reads the webhook and its types into a form; ok is false when
// it has answered already (the webhook is not the session's to see).
func (c *Console) testPage(w http.ResponseWriter, r *http.Request, s *session) (testForm, bool) {
	h, _, res := c.get(r, s, r.PathValue("id"))
	if res.status != http.StatusOK {
		c.notFound(w, r, s, res)
		return testForm{}, false
	}
	f := testForm{Hook: h}
	var err error
	if f.Subscribed, f.Others, err = c.testTypes(r, s, h); err != nil {
		f.Problem = "The event types could not be read: " + err.Error()
	}
	return f, true
}

func (c *Console) showTest(w http.ResponseWriter, r *http.Request, s *session, status int, f testForm) {
	c.render(w, r, s, status, "testscreen", map[string]any{"Title": "Test " + f.Hook.Title(), "F": f, "Name": f.Hook.Title()})
}

// testScreen shows the form: the type asked in ?type= (else the first the
// webhook subscribes to) with its sample.
func (c *Console) testScreen(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := c.testPage(w, r, s)
	if !ok {
		return
	}
	f.Type = r.URL.Query().Get("type")
	if f.Type == "" && len(f.Subscribed) > 0 {
		f.Type = f.Subscribed[0]
	}
	if f.Type != "" {
		if !f.offers(f.Type) {
			f.TypeError = f.unknown(f.Type)
		} else {
			f.Payload = c.sample(r, s, f.Hook.Account, f.Type)
		}
	}
	c.showTest(w, r, s, http.StatusOK, f)
}

func (f testForm) offers(typ string) bool {
	for _, l := range [][]string{f.Subscribed, f.Others} {
		for _, t := range l {
			if t == typ {
				return true
			}
		}
	}
	return false
}

func (f testForm) unknown(typ string) string {
	return fmt.Sprintf("%q is neither in the catalog nor declared for account %s: choose a type from the list.", typ, f.Hook.Account)
}

// testSendScreen is the Test screen's POST: "load" fills in the chosen
// type's sample; otherwise the payload, checked here (a known type, JSON),
// is sent as the type's data, and the answer shown. Nothing is sent when
// the type or the payload is wrong.
func (c *Console) testSendScreen(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := c.testPage(w, r, s)
	if !ok {
		return
	}
	f.Type = strings.TrimSpace(r.PostFormValue("event_type"))
	f.Payload = r.PostFormValue("payload")
	switch {
	case f.Type == "":
		f.TypeError = "Choose an event type."
	case !f.offers(f.Type):
		f.TypeError = f.unknown(f.Type)
	case r.PostFormValue("action") == "load":
		f.Payload = c.sample(r, s, f.Hook.Account, f.Type)
		c.showTest(w, r, s, http.StatusOK, f)
		return
	}
	if f.TypeError == "" {
		f.PayloadError = payloadProblem(f.Payload)
	}
	if f.TypeError != "" || f.PayloadError != "" {
		c.showTest(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	res := c.call(r.Context(), r, s, http.MethodPost, hookPath(f.Hook.ID, "/test"),
		map[string]any{"event_type": f.Type, "data": json.RawMessage(f.Payload)})
	if e := res.err(); e != nil {
		switch {
		case res.status == http.StatusNotFound || res.status == http.StatusForbidden:
			c.notFound(w, r, s, res)
			return
		case e.Field == "event_type":
			f.TypeError = e.Message
		case strings.HasPrefix(e.Field, "data"):
			f.PayloadError = e.Message
			for _, d := range e.Details[min(1, len(e.Details)):] {
				f.PayloadError += "; " + d.Field + ": " + d.Message
			}
		default:
			f.Problem = e.Message
		}
		c.showTest(w, r, s, res.status, f)
		return
	}
	var t testSent
	if err := json.Unmarshal(res.body, &t); err != nil {
		c.failed(w, r, s, apiResult{status: http.StatusBadGateway})
		return
	}
	f.Result = &t
	c.showTest(w, r, s, http.StatusOK, f)
}

// payloadProblem says what is wrong with a payload typed as JSON, with the
// line and column of a syntax error, or "".
func payloadProblem(p string) string {
	if strings.TrimSpace(p) == "" {
		return "Enter the event's data as JSON (choose a type and press \"Use its sample\" to start from the catalog's sample)."
	}
	var v any
	err := json.Unmarshal([]byte(p), &v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := 1, 1
		for _, ch := range p[:min(int(se.Offset), len(p))] {
			if ch == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("Not valid JSON: %s (line %d, column %d). Nothing was sent.", se.Error(), line, col)
	case err != nil:
		return "Not valid JSON: " + err.Error() + ". Nothing was sent."
	}
	return ""
}

// previewForm is what the Plugin preview screen shows.
type previewForm struct {
	Hook       hook
	Plugin     string
	Recent     []recentEvent
	EventID    string
	EventError string
	Problem    string // the plugin's (or the build's) error
	Result     *previewResult
}

type recentEvent struct{ ID, Type, When string }

// previewResult is the API's answer to a preview.
type previewResult struct {
	EventID string       `json:"event_id"`
	Matches bool         `json:"matches"`
	Skipped bool         `json:"skipped"`
	Request *requestView `json:"request"`
}

func (c *Console) previewPage(w http.ResponseWriter, r *http.Request, s *session) (previewForm, bool) {
	h, doc, res := c.get(r, s, r.PathValue("id"))
	if res.status != http.StatusOK {
		c.notFound(w, r, s, res)
		return previewForm{}, false
	}
	f := previewForm{Hook: h}
	if p, ok := doc["plugin"].(map[string]any); ok {
		f.Plugin, _ = p["name"].(string)
	}
	// The events of its latest attempts (test sends are not archived).
	// An answer refused or unreadable offers no recent events: an id can
	// still be typed.
	if attempts, res := getList[attempt](c, r, s, hookPath(h.ID, "/attempts?limit=100")); res.status == http.StatusOK {
		seen := map[string]bool{}
		for _, a := range attempts {
			if a.Test || a.EventID == "" || seen[a.EventID] || len(f.Recent) == 20 {
				continue
			}
			seen[a.EventID] = true
			f.Recent = append(f.Recent, recentEvent{ID: a.EventID, Type: a.EventType, When: a.When()})
		}
	}
	return f, true
}

func (c *Console) showPreview(w http.ResponseWriter, r *http.Request, s *session, status int, f previewForm) {
	c.render(w, r, s, status, "preview", map[string]any{"Title": "Plugin preview of " + f.Hook.Title(), "F": f, "Name": f.Hook.Title()})
}

func (c *Console) previewScreen(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := c.previewPage(w, r, s)
	if !ok {
		return
	}
	f.EventID = r.URL.Query().Get("event_id")
	c.showPreview(w, r, s, http.StatusOK, f)
}

// previewSend asks the API for the request the webhook would be sent for
// the chosen event (typed, else picked from the recent ones).
func (c *Console) previewSend(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := c.previewPage(w, r, s)
	if !ok {
		return
	}
	f.EventID = strings.TrimSpace(r.PostFormValue("other_event_id"))
	if f.EventID == "" {
		f.EventID = r.PostFormValue("event_id")
	}
	if f.EventID == "" {
		f.EventError = "Choose one of the recent events, or type an event id."
		c.showPreview(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	res := c.call(r.Context(), r, s, http.MethodPost, hookPath(f.Hook.ID, "/preview"), map[string]string{"event_id": f.EventID})
	if e := res.err(); e != nil {
		switch {
		case res.status == http.StatusNotFound && strings.HasPrefix(e.Message, "no webhook "):
			c.notFound(w, r, s, res)
			return
		case res.status == http.StatusNotFound || e.Field == "event_id":
			f.EventError = e.Message
		default: // preview_failed: the plugin's error, or the build's
			f.Problem = e.Message
		}
		c.showPreview(w, r, s, res.status, f)
		return
	}
	var p previewResult
	if err := json.Unmarshal(res.body, &p); err != nil {
		c.failed(w, r, s, apiResult{status: http.StatusBadGateway})
		return
	}
	f.Result = &p
	c.showPreview(w, r, s, http.StatusOK, f)
}
