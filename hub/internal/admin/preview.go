package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// RequestView is a request as the hub builds it for a webhook, with its
// credentials masked: header values other than the plain few, the
// Authorization credentials, URL query values, and any of the webhook's
// secret values wherever they appear (a plugin may put one in the body).
type RequestView struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// PreviewView is what a webhook would be sent for an event.
type PreviewView struct {
	EventID string `json:"event_id"`
	// Matches says the webhook takes the event (active, a subscribed type,
	// an accepted initiator and list): when false, routing would not send
	// it, and the request is what a test send or resend would send.
	Matches bool `json:"matches"`
	// Skipped says the webhook's plugin drops the event: nothing would be sent.
	Skipped bool         `json:"skipped"`
	Request *RequestView `json:"request,omitempty"`
}

// preview builds the request the webhook would be sent for an event of the
// archive (event_id) or one given whole (event), through the code that
// delivers (plugin, format, headers, auth, signature), and sends nothing.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.webhook(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	var body struct {
		EventID string          `json:"event_id"`
		Event   json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return badRequest("invalid_json", "", `the body must be {"event_id": "..."} or {"event": {...}}`)
	}
	if (body.EventID == "") == (len(body.Event) == 0 || string(body.Event) == "null") {
		return badRequest("validation_failed", "event_id", "give event_id (an event the archive keeps) or event (a CloudEvent), one of the two")
	}
	if s.d.Preview == nil {
		return &Error{Status: http.StatusConflict, Code: "unavailable", Message: "previews are not available in this hub"}
	}
	var evRaw []byte
	if body.EventID != "" {
		v, err := s.archived(r.Context(), wh.Account, body.EventID)
		if err != nil {
			return err
		}
		evRaw = v.Event
	} else {
		e, err := s.eventFor(wh, body.Event, "event", "hookhub/preview")
		if err != nil {
			return err
		}
		evRaw, _ = json.Marshal(e)
	}
	ev, _ := event.Parse(evRaw)
	out := PreviewView{}
	if ev != nil {
		out.EventID, out.Matches = ev.ID, wh.Matches(ev)
	}
	b, err := s.d.Preview(r.Context(), wh, evRaw, wh.Batch != nil)
	if err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "preview_failed",
			Message: config.Scrub(err.Error(), wh.SecretValuesOnce(s.d.PluginSecrets))}
	}
	out.Skipped = b.Skipped
	if !b.Skipped {
		out.Request = s.requestView(wh, b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// requestView shows a built request with the webhook's credentials masked.
func (s *Server) requestView(wh *webhooks.Webhook, b *delivery.Built) *RequestView {
	secrets := wh.SecretValuesOnce(s.d.PluginSecrets)
	v := &RequestView{Method: b.Request.Method, URL: config.Scrub(config.MaskURL(b.Request.URL.String()), secrets),
		Headers: maskHeaders(b.Request.Header, secrets), Body: config.Scrub(string(b.Body), secrets)}
	return v
}

// authSchemes are the Authorization schemes shown beside the mask; any
// other first word may be the credential itself.
var authSchemes = map[string]bool{"basic": true, "bearer": true, "digest": true, "hoba": true, "mutual": true,
	"negotiate": true, "ntlm": true, "token": true, "aws4-hmac-sha256": true}

// maskHeaders copies h with credentials hidden, as the attempt records
// show them: Authorization keeps its scheme, the value of any header but
// the plain few (config.PlainHeader) is masked, and the webhook's secret
// values are scrubbed from the plain ones too.
func maskHeaders(h http.Header, secrets []string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		switch {
		case strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Proxy-Authorization"):
			out[k] = []string{config.Mask}
			if scheme, _, ok := strings.Cut(vs[0], " "); ok && authSchemes[strings.ToLower(scheme)] {
				out[k] = []string{scheme + " " + config.Mask}
			}
		case !config.PlainHeader(k):
			out[k] = []string{config.Mask}
		default:
			c := make([]string, len(vs))
			for i, v := range vs {
				c[i] = config.Scrub(v, secrets)
			}
			out[k] = c
		}
	}
	return out
}

// eventFor reads a CloudEvent given in a request body at field for webhook
// wh: read as the router reads events, with the webhook's account when it
// names none (another is refused), source when it has none, an id and time
// filled in, and its data checked against its type's schema. Errors name
// the field (field.type, field.data.email, ...).
func (s *Server) eventFor(wh *webhooks.Webhook, raw json.RawMessage, field, source string) (*event.Event, error) {
	e, err := event.Decode(raw)
	if err != nil {
		return nil, eventError(field, err)
	}
	switch {
	case e.Account == "":
		e.Account = wh.Account
	case e.Account != wh.Account:
		return nil, fieldError(field+".account", fmt.Sprintf("must be the webhook's account %q (or left out)", wh.Account))
	}
	if e.Source == "" {
		e.Source = source
	}
	publish.Fill(e)
	if err := e.Check(); err != nil {
		return nil, eventError(field, err)
	}
	if err := s.checkEvent(e, field); err != nil {
		return nil, err
	}
	return e, nil
}

// checkEvent refuses the hub's reserved types, and data its type's schema
// refuses, naming each field at fault under field (".data...").
func (s *Server) checkEvent(e *event.Event, field string) error {
	typeField, dataField := "type", "data"
	if field != "" {
		typeField, dataField = field+".type", field+".data"
	}
	if strings.HasPrefix(e.Type, webhooks.OperationalPrefix) {
		return fieldError(typeField, "types under "+webhooks.OperationalPrefix+" are reserved for the hub's own operational events")
	}
	data := []byte(e.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	doc, err := schemacheck.Decode(data)
	if err != nil {
		return fieldError(dataField, "not valid JSON")
	}
	issues, known, err := s.validateData(e.Account, e.Type, doc)
	if !known && err == nil {
		// Neither built in nor declared: refused as the router refuses
		// it, unless the hub takes such types unchecked.
		if s.d.Config.AcceptUndeclaredTypes || s.d.Types == nil {
			return nil
		}
		if field == "" {
			typeField = "event_type" // a test send's type and data given apart
		}
		return fieldError(typeField, s.d.Types.Undeclared(e.Account, e.Type))
	}
	if err != nil {
		return err
	}
	if len(issues) == 0 {
		return nil
	}
	details := make([]FieldIssue, 0, len(issues))
	for _, is := range issues {
		f := dataField
		if is.Path != "" {
			f += "." + is.Path
		}
		details = append(details, FieldIssue{Field: f, Message: is.Msg + " (schema of " + e.Type + ")"})
	}
	ee := badRequest("validation_failed", details[0].Field, details[0].Field+": "+details[0].Message)
	ee.Details = details
	return ee
}

// lookupType finds a type built in or declared for account.
func (s *Server) lookupType(account, eventType string) (schemas.EventType, bool) {
	if s.d.Types != nil {
		return s.d.Types.Lookup(account, eventType)
	}
	return schemas.Lookup(eventType)
}

// validateData checks an event's decoded data against its type's schema,
// built in or declared for account; known is false for any other type.
func (s *Server) validateData(account, eventType string, doc any) (issues []schemacheck.Issue, known bool, err error) {
	if s.d.Types != nil {
		return s.d.Types.Validate(account, eventType, doc)
	}
	set, err := schemacheck.Default()
	if err != nil {
		return nil, false, err
	}
	path := "events/" + eventType + ".schema.json"
	if !set.Has(path) {
		return nil, false, nil
	}
	issues, err = set.Validate(path, doc)
	return issues, true, err
}

// eventError is a 400 naming the event's field at fault under field.
func eventError(field string, err error) error {
	prefix := ""
	if field != "" {
		prefix = field + "."
	}
	var fe *event.FieldError
	if errors.As(err, &fe) {
		return fieldError(prefix+fe.Field, fe.Reason)
	}
	return badRequest("invalid_event", field, prefix+err.Error())
}
