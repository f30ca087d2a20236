package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

func (s *Server) eventRoutes() {
	s.handle("GET /v1/event-types", s.listEventTypes, false)
	s.handle("GET /v1/event-types/{type}", s.getEventType, false)
	s.handle("POST /v1/events", s.postEvent, false)
	s.handle("GET /v1/rejected-events", s.listRejected, false)
}

// typesAccount is the account whose types a request sees: an account
// token's own, or ?account= for the admin token ("" for the catalog and the
// hub's declared types only, or every account's with ?account=*).
func typesAccount(r *http.Request) (account string, every bool) {
	if sc := scope(r); sc != "" {
		return sc, false
	}
	a := r.URL.Query().Get("account")
	if a == "*" {
		return "", true
	}
	return a, false
}

// listEventTypes lists the catalog and the declared types the caller's
// account knows, by category and by a search (?q=) over names, titles,
// descriptions and also-known-as names.
func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request) error {
	cat := r.URL.Query().Get("category")
	account, every := typesAccount(r)
	all := s.d.Types.List(account, every)
	out := []schemas.EventType{}
	for _, t := range eventtypes.Search(all, r.URL.Query().Get("q")) {
		if cat == "" || cat == t.Category {
			t.Schema, t.Sample = nil, nil // a listing leaves them to GET /v1/event-types/{type}
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "categories": eventtypes.Categories(all)})
	return nil
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request) error {
	account, _ := typesAccount(r)
	t, ok := s.d.Types.Lookup(account, r.PathValue("type"))
	if !ok {
		return notFound("event type", r.PathValue("type"))
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// postEvent publishes an event onto the bus, for services that do not speak
// NATS; the router then validates it exactly as it does NATS publishers'.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	// The router's reading: exact attribute names, each member once.
	e, err := envelope.Decode(body)
	if err == nil {
		publish.Fill(e)
		err = e.Check()
	}
	if err != nil {
		var fe *event.FieldError
		if errors.As(err, &fe) {
			return badRequest("invalid_event", fe.Field, err.Error())
		}
		return badRequest("invalid_event", "", err.Error())
	}
	if strings.HasPrefix(e.Type, webhooks.OperationalPrefix) {
		return badRequest("invalid_event", "type", "types under "+webhooks.OperationalPrefix+" are reserved for the hub's own operational events")
	}
	if !allowed(r, e.Account) { // before the type check, whose hints name the account's types
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Field: "account", Message: "this token sees only account " + scope(r)}
	}
	if reason := accept.CheckData(s.d.Types, e); reason != "" {
		field := "data"
		if _, known := s.d.Types.Lookup(e.Account, e.Type); !known {
			field = "type"
		}
		return badRequest("invalid_event", field, reason)
	}
	// The event as checked, on its subject: not read a third time (as
	// publish.PublishRaw would) before it goes.
	m := nats.NewMsg(e.NATSSubject(s.d.Bus.Names.Prefix))
	m.Header.Set(jetstream.MsgIDHeader, publish.MsgID(e.Account, e.ID))
	m.Data, _ = json.Marshal(e)
	ack, err := s.d.Bus.JS.PublishMsg(r.Context(), m)
	if err != nil {
		return fmt.Errorf("publish: event %s on %s: %w", e.ID, m.Subject, err)
	}
	// No "duplicate": the events stream keeps every message (an event sent
	// again is dropped where it is routed), so JetStream's ack cannot say.
	out := map[string]any{"id": e.ID, "sequence": ack.Sequence}
	if scope(r) != "" {
		delete(out, "sequence") // it counts every account's events
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}
