package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// TestSendView is the outcome of a test send: what happened (status,
// response excerpt, latency, the request headers as sent, masked), and the
// request it sent.
type TestSendView struct {
	delivery.TestResult
	EventID string `json:"event_id"`
	// Request is the request sent: its headers as sent, masked; its method,
	// URL and body as the delivery code builds them for this event.
	Request *RequestView `json:"request,omitempty"`
}

// testSend sends an event to a webhook now, and answers with what
// happened: the catalog's sample of event_type, or data given for it
// (checked against the type's schema when it has one), or a whole event.
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cur, err := s.webhook(r, id)
	if err != nil {
		return err
	}
	if s.d.Tester == nil {
		return &Error{Status: http.StatusConflict, Code: "unavailable", Message: "test sends are not available in this hub"}
	}
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	var body struct {
		EventType string          `json:"event_type"`
		Data      json.RawMessage `json:"data"`
		Event     json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return badRequest("invalid_json", "", `the body must be {"event_type": "...", "data": {...}} or {"event": {...}}`)
	}
	var e *event.Event
	if len(body.Event) > 0 && string(body.Event) != "null" {
		if len(body.Data) > 0 {
			return fieldError("data", "give data (with event_type) or a whole event, not both")
		}
		if e, err = s.eventFor(cur, body.Event, "event", "hookhub/test"); err != nil {
			return err
		}
		if body.EventType != "" && body.EventType != e.Type {
			return fieldError("event_type", fmt.Sprintf("%q differs from event.type %q: leave it out, or make them the same", body.EventType, e.Type))
		}
	} else {
		switch {
		case body.EventType == "":
			return fieldError("event_type", "is required (or give a whole event)")
		case !event.ValidType(body.EventType):
			return fieldError("event_type", fmt.Sprintf("%q is not a dotted lowercase type such as contact.updated", body.EventType))
		case strings.HasPrefix(body.EventType, webhooks.OperationalPrefix):
			return fieldError("event_type", "types under "+webhooks.OperationalPrefix+" are reserved for the hub's own operational events")
		}
		t, known := s.lookupType(cur.Account, body.EventType)
		data := body.Data
		switch {
		case len(data) == 0 && !known:
			return badRequest("unknown_event_type", "event_type", fmt.Sprintf("%q is neither in the catalog nor declared for account %q (GET /v1/event-types), so it has no sample: give data as well", body.EventType, cur.Account))
		case len(data) == 0:
			data = t.Sample
		}
		e = &event.Event{Source: "hookhub/test", Type: body.EventType, Account: cur.Account, Initiator: event.InitiatorAPI, Data: data}
		publish.Fill(e)
		e.ID = "test_" + e.ID
		if err := e.Check(); err != nil {
			return eventError("", err)
		}
		if err := s.checkEvent(e, ""); err != nil {
			return err
		}
	}
	evRaw, _ := json.Marshal(e)
	out := TestSendView{TestResult: s.d.Tester.TestSend(r.Context(), cur, evRaw), EventID: e.ID}
	if !out.Skipped && out.Headers != nil && s.d.Preview != nil {
		// The same code on the same event builds the same method, URL and
		// body; the headers are those the send reported.
		if b, err := s.d.Preview(r.Context(), cur, evRaw, false); err == nil && !b.Skipped {
			out.Request = s.requestView(cur, b)
			out.Request.Headers = out.Headers
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
