package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
)

func (s *Server) eventTypeRoutes() {
	s.handle("PUT /v1/event-types/{type}", s.putEventType, false)
	s.handle("DELETE /v1/event-types/{type}", s.deleteEventType, false)
}

// declAccount is the account a declaration is for: an account token's
// own; for the admin token ?account=, or "" (the whole hub).
func declAccount(r *http.Request) (string, *Error) {
	a := r.URL.Query().Get("account")
	if sc := scope(r); sc != "" {
		if a != "" && a != sc {
			return "", &Error{Status: http.StatusForbidden, Code: "forbidden", Field: "account", Message: "this token sees only account " + sc}
		}
		return sc, nil
	}
	return a, nil
}

// putEventType declares a custom event type, or replaces the API's
// declaration of it: for the caller's account, or (admin token, no
// ?account=) for the whole hub. It then behaves as a built-in type: checked
// at publish, listed, test-sendable, nameable by webhooks.
func (s *Server) putEventType(w http.ResponseWriter, r *http.Request) error {
	if s.d.TypeStore == nil {
		return &Error{Status: http.StatusConflict, Code: "unavailable", Message: "event types cannot be declared through the API in this hub"}
	}
	account, e := declAccount(r)
	if e != nil {
		return e
	}
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return badRequest("invalid_json", "", "the body must be a JSON object")
	}
	typ := r.PathValue("type")
	if v, ok := m["type"]; ok && v != typ {
		return badRequest("validation_failed", "type", "type: must be the type in the path, or left out")
	}
	m["type"] = typ
	norm, _ := json.Marshal(m)
	set, err := schemacheck.Default()
	if err != nil {
		return err
	}
	doc, _ := schemacheck.Decode(norm)
	issues, err := set.Validate(config.SchemaPath+"#/$defs/event_type", doc)
	if err != nil {
		return err
	}
	var details []FieldIssue
	for _, is := range issues {
		details = append(details, FieldIssue{Field: is.Path, Message: is.Msg})
	}
	var t config.EventType
	if len(details) == 0 {
		dec := json.NewDecoder(bytes.NewReader(norm))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return badRequest("validation_failed", "", err.Error())
		}
		taken := func(string) string { return s.d.Types.Conflict(account, typ) }
		config.CheckEventType("", t, taken, func(path, format string, args ...any) {
			details = append(details, FieldIssue{Field: strings.TrimPrefix(path, "."), Message: fmt.Sprintf(format, args...)})
		})
	}
	if len(details) > 0 {
		e := badRequest("validation_failed", details[0].Field, details[0].Field+": "+details[0].Message)
		e.Details = details
		return e
	}
	if n, has := s.d.Types.APICount(account, typ); n >= eventtypes.MaxAPIDeclared && !has {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "type_limit", Field: "type",
			Message: fmt.Sprintf("%d types are declared through the API already, the most there may be", n)}
	}
	if err := s.d.TypeStore.Put(r.Context(), account, t); err != nil {
		if errors.Is(err, eventtypes.ErrInConfig) {
			return &Error{Status: http.StatusConflict, Code: "read_only", Field: "type", Message: typ + " is declared in the config file; change it there"}
		}
		return err
	}
	out, _ := s.d.Types.Lookup(account, typ)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteEventType removes the API's declaration of a type. Webhooks that
// name it keep it; its events are rejected from then on, as undeclared.
func (s *Server) deleteEventType(w http.ResponseWriter, r *http.Request) error {
	if s.d.TypeStore == nil {
		return &Error{Status: http.StatusConflict, Code: "unavailable", Message: "event types cannot be declared through the API in this hub"}
	}
	account, e := declAccount(r)
	if e != nil {
		return e
	}
	typ := r.PathValue("type")
	found, err := s.d.TypeStore.Delete(r.Context(), account, typ)
	switch {
	case errors.Is(err, eventtypes.ErrInConfig):
		return &Error{Status: http.StatusConflict, Code: "read_only", Field: "type", Message: typ + " is declared in the config file; change it there"}
	case err != nil:
		return err
	case !found:
		return notFound("declared event type", typ)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
