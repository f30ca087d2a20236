package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// The log screens: a webhook's attempts (with its figures and, when the hub
// disabled it, the way back), one event's attempts across webhooks, and a
// webhook's dead letters with their redrive. Everything is read and done by
// the API's delivery-log routes, as the session.

// attempt is a record of the attempt log as the API shows it (request
// headers masked by the API).
type attempt struct {
	Seq         int64               `json:"seq"`
	Job         string              `json:"job"`
	Webhook     string              `json:"webhook"`
	Account     string              `json:"account"`
	EventID     string              `json:"event_id"`
	EventType   string              `json:"event_type"`
	Attempt     int                 `json:"attempt"`
	Outcome     string              `json:"outcome"`
	Status      int                 `json:"status"`
	LatencyMS   float64             `json:"latency_ms"`
	Error       string              `json:"error"`
	Response    string              `json:"response"`
	Headers     map[string][]string `json:"request_headers"`
	At          time.Time           `json:"at"`
	NextRetryAt *time.Time          `json:"next_retry_at"`
	Test        bool                `json:"test"`
}

// When is the attempt's time, to the second, UTC.
func (a attempt) When() string { return a.At.UTC().Format("2006-01-02 15:04:05 UTC") }

// HeaderNames are the request's header names, sorted.
func (a attempt) HeaderNames() []string {
	out := make([]string, 0, len(a.Headers))
	for k := range a.Headers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// deadLetter is a dead letter as the API shows it.
type deadLetter struct {
	Seq      int64  `json:"seq"`
	Webhook  string `json:"webhook"`
	Job      string `json:"job"`
	EventID  string `json:"event_id"`
	Reason   string `json:"reason"`
	Attempts int    `json:"attempts"`
	Status   int    `json:"status"`
	FailedAt string `json:"failed_at"`
}

// When is the time it failed, to the second, UTC (as the API wrote it
// when it is not a time).
func (d deadLetter) When() string {
	t, err := time.Parse(time.RFC3339Nano, d.FailedAt)
	if err != nil {
		return d.FailedAt
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// windowStats are the counts of one window of /stats.
type windowStats struct {
	Delivered    int `json:"delivered"`
	Failed       int `json:"failed"`
	DeadLettered int `json:"dead_lettered"`
	Skipped      int `json:"skipped"`
}

// stats is the API's /stats answer.
type stats struct {
	windowStats
	PendingJobs    int         `json:"pending_jobs"`
	PendingRetries int         `json:"pending_retries"`
	DeadLetters    int         `json:"dead_letters"`
	Since          *time.Time  `json:"since"`
	LastDay        windowStats `json:"last_day"`
	LastHour       windowStats `json:"last_hour"`
}

// page is a page of a listing and the cursor of the next.
type page[T any] struct {
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
	Next    string `json:"next"`
}

// logFilter is the attempts page's filter form, as typed.
type logFilter struct {
	Outcome, EventType, Since, Until string
}

// outcomes are the choices of the outcome filter (the API checks them).
var outcomes = []string{"delivered", "retrying", "dead", "skipped", "failed"}

func (c *Console) logRoutes() {
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}/logs", c.authed(c.attempts))
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}/dead-letters", c.authed(c.deadLetters))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/dead-letters/redrive", c.authed(c.redriveRange))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/dead-letters/{seq}/redrive", c.authed(c.redriveOne))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/resend", c.authed(c.resend))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/logs/enable", c.authed(c.enableFromLogs))
	c.mux.HandleFunc("GET "+Path+"events/{id}", c.authed(c.eventAttempts))
}

// notFound shows an API error; a webhook or event the session may not see
// (403 or 404) is simply not found, as it is for the API.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s *session, res apiResult) {
	if res.status == http.StatusNotFound || res.status == http.StatusForbidden {
		c.render(w, r, s, http.StatusNotFound, "message", map[string]any{"Title": "Not found", "Message": "There is no such webhook or event, or it is not yours to see.", "Back": true})
		return
	}
	c.failed(w, r, s, res)
}

// apiTime turns a time typed in the form (a datetime-local value, UTC) into
// the API's RFC 3339; anything else goes as typed, for the API to judge.
func apiTime(v string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

func (c *Console) attempts(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	h, _, res := c.get(r, s, id)
	if res.status != http.StatusOK {
		c.notFound(w, r, s, res)
		return
	}
	q := r.URL.Query()
	f := logFilter{Outcome: q.Get("outcome"), EventType: q.Get("event_type"), Since: q.Get("since"), Until: q.Get("until")}
	api := url.Values{}
	for k, v := range map[string]string{"outcome": f.Outcome, "event_type": f.EventType, "since": apiTime(f.Since), "until": apiTime(f.Until), "before": q.Get("before")} {
		if v != "" {
			api.Set(k, v)
		}
	}
	api.Set("limit", limitOf(q.Get("limit")))
	data := map[string]any{"Title": "Logs of " + h.Title(), "Hook": h, "Filter": f, "Outcomes": outcomes, "Resend": map[int64]bool{}}
	res = c.call(r.Context(), r, s, http.MethodGet, hookPath(id, "/attempts?"+api.Encode()), nil)
	if res.status != http.StatusOK {
		if res.status == http.StatusNotFound || res.status == http.StatusForbidden {
			c.notFound(w, r, s, res)
			return
		}
		data["Problem"] = res.err().Message // a filter the API refuses: said above the form
	}
	var p page[attempt]
	_ = json.Unmarshal(res.body, &p)
	data["Attempts"] = p.Data
	if p.HasMore && p.Next != "" {
		older := url.Values{}
		for k, v := range map[string]string{"outcome": f.Outcome, "event_type": f.EventType, "since": f.Since, "until": f.Until, "limit": q.Get("limit")} {
			if v != "" {
				older.Set(k, v)
			}
		}
		older.Set("before", p.Next)
		data["Older"] = Path + "webhooks/" + url.PathEscape(id) + "/logs?" + older.Encode()
	}
	if q.Get("before") != "" {
		data["Paged"] = true
	}
	if res := c.call(r.Context(), r, s, http.MethodGet, hookPath(id, "/stats"), nil); res.status == http.StatusOK {
		var st stats
		if json.Unmarshal(res.body, &st) == nil {
			data["Stats"] = st
		}
	}
	if h.Disabled {
		data["Stranded"], data["StrandedMore"] = c.stranded(r, s, h)
	}
	c.render(w, r, s, http.StatusOK, "logs", data)
}

// limitOf is the page size asked (the API bounds it); 50 by default.
func limitOf(v string) string {
	if _, err := strconv.Atoi(v); err != nil {
		return "50"
	}
	return v
}

// stranded counts the dead letters a disabled webhook has had since it
// began failing (as the API's enable?recover=true redrives them), up to a
// page; more is true past it.
func (c *Console) stranded(r *http.Request, s *session, h hook) (int, bool) {
	since := h.FailingSince
	if since == nil {
		since = h.DisabledAt
	}
	if since == nil {
		return 0, false
	}
	res := c.call(r.Context(), r, s, http.MethodGet, hookPath(h.ID, "/dead-letters?limit=500&since="+url.QueryEscape(since.UTC().Format(time.RFC3339Nano))), nil)
	var p page[deadLetter]
	if res.status != http.StatusOK || json.Unmarshal(res.body, &p) != nil {
		return 0, false
	}
	return len(p.Data), p.HasMore
}

func (c *Console) enableFromLogs(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	path := hookPath(id, "/enable")
	if r.PostFormValue("recover") == "true" {
		path += "?recover=true"
	}
	res := c.call(r.Context(), r, s, http.MethodPost, path, nil)
	if res.status != http.StatusOK {
		c.notFound(w, r, s, res)
		return
	}
	var out struct {
		hook
		Stranded *struct {
			DeadLetters int `json:"dead_letters"`
			Redriven    int `json:"redriven"`
		} `json:"stranded"`
	}
	_ = json.Unmarshal(res.body, &out)
	msg := fmt.Sprintf("%s is enabled again.", out.Title())
	if out.Stranded != nil && r.PostFormValue("recover") == "true" {
		msg += fmt.Sprintf(" %d dead letters redriven.", out.Stranded.Redriven)
	}
	c.setFlash(s, msg)
	http.Redirect(w, r, Path+"webhooks/"+url.PathEscape(id)+"/logs", http.StatusSeeOther)
}

func (c *Console) eventAttempts(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	q := r.URL.Query()
	api := url.Values{"limit": {limitOf(q.Get("limit"))}}
	for _, k := range []string{"account", "before"} {
		if v := q.Get(k); v != "" {
			api.Set(k, v)
		}
	}
	res := c.call(r.Context(), r, s, http.MethodGet, "/v1/events/"+url.PathEscape(id)+"/attempts?"+api.Encode(), nil)
	if res.status != http.StatusOK {
		c.notFound(w, r, s, res)
		return
	}
	var p page[attempt]
	_ = json.Unmarshal(res.body, &p)
	if len(p.Data) == 0 && q.Get("before") == "" {
		c.notFound(w, r, s, apiResult{status: http.StatusNotFound})
		return
	}
	data := map[string]any{"Title": "Event " + id, "EventID": id, "Account": q.Get("account"), "Attempts": p.Data}
	if p.HasMore && p.Next != "" {
		older := url.Values{"before": {p.Next}}
		if a := q.Get("account"); a != "" {
			older.Set("account", a)
		}
		data["Older"] = Path + "events/" + url.PathEscape(id) + "?" + older.Encode()
	}
	// One "Resend" per webhook, on its newest attempt.
	seen := map[string]bool{}
	resend := map[int64]bool{}
	for _, a := range p.Data {
		if !seen[a.Webhook] && !a.Test {
			seen[a.Webhook] = true
			resend[a.Seq] = true
		}
	}
	data["Resend"] = resend
	c.render(w, r, s, http.StatusOK, "event", data)
}

func (c *Console) resend(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	ev := r.PostFormValue("event_id")
	res := c.call(r.Context(), r, s, http.MethodPost, hookPath(id, "/resend"), map[string]string{"event_id": ev})
	if res.status != http.StatusAccepted {
		c.notFound(w, r, s, res)
		return
	}
	c.log.Info().Str("webhook", id).Str("event", ev).Msg("console: event resent")
	c.setFlash(s, fmt.Sprintf("Event %s is queued again for %s.", ev, id))
	back := Path + "events/" + url.PathEscape(ev)
	if a := r.PostFormValue("account"); a != "" {
		back += "?account=" + url.QueryEscape(a)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	h, _, res := c.get(r, s, id)
	if res.status != http.StatusOK {
		c.notFound(w, r, s, res)
		return
	}
	q := r.URL.Query()
	f := logFilter{Since: q.Get("since"), Until: q.Get("until")}
	api := url.Values{"limit": {limitOf(q.Get("limit"))}}
	for k, v := range map[string]string{"since": apiTime(f.Since), "until": apiTime(f.Until), "before": q.Get("before")} {
		if v != "" {
			api.Set(k, v)
		}
	}
	data := map[string]any{"Title": "Dead letters of " + h.Title(), "Hook": h, "Filter": f}
	res = c.call(r.Context(), r, s, http.MethodGet, hookPath(id, "/dead-letters?"+api.Encode()), nil)
	if res.status != http.StatusOK {
		if res.status == http.StatusNotFound || res.status == http.StatusForbidden {
			c.notFound(w, r, s, res)
			return
		}
		data["Problem"] = res.err().Message
	}
	var p page[deadLetter]
	_ = json.Unmarshal(res.body, &p)
	data["Letters"] = p.Data
	if p.HasMore && p.Next != "" {
		older := url.Values{"before": {p.Next}}
		for k, v := range map[string]string{"since": f.Since, "until": f.Until} {
			if v != "" {
				older.Set(k, v)
			}
		}
		data["Older"] = Path + "webhooks/" + url.PathEscape(id) + "/dead-letters?" + older.Encode()
	}
	c.render(w, r, s, http.StatusOK, "deadletters", data)
}

// redriveOne redrives one dead letter of the webhook in the path. The API
// checks the letter's account; the console checks first that the session
// sees the webhook, and comes back to its page.
func (c *Console) redriveOne(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	res := c.call(r.Context(), r, s, http.MethodPost, "/v1/dead-letters/"+url.PathEscape(r.PathValue("seq"))+"/redrive", nil)
	if res.status != http.StatusAccepted {
		c.notFound(w, r, s, res)
		return
	}
	c.log.Info().Str("webhook", id).Str("seq", r.PathValue("seq")).Msg("console: dead letter redriven")
	c.setFlash(s, "The dead letter is redriven: a fresh delivery, attempt 1.")
	http.Redirect(w, r, Path+"webhooks/"+url.PathEscape(id)+"/dead-letters", http.StatusSeeOther)
}

func (c *Console) redriveRange(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	api := url.Values{}
	for _, k := range []string{"since", "until"} {
		if v := r.PostFormValue(k); v != "" {
			api.Set(k, apiTime(v))
		}
	}
	path := hookPath(id, "/dead-letters/redrive")
	if len(api) > 0 {
		path += "?" + api.Encode()
	}
	res := c.call(r.Context(), r, s, http.MethodPost, path, nil)
	if res.status != http.StatusAccepted {
		c.notFound(w, r, s, res)
		return
	}
	var out struct {
		Redriven int `json:"redriven"`
	}
	_ = json.Unmarshal(res.body, &out)
	c.log.Info().Str("webhook", id).Int("redriven", out.Redriven).Msg("console: dead letters redriven")
	c.setFlash(s, fmt.Sprintf("%d dead letters redriven.", out.Redriven))
	http.Redirect(w, r, Path+"webhooks/"+url.PathEscape(id)+"/dead-letters", http.StatusSeeOther)
}
