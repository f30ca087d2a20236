package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/deliverylog"
)

func (s *Server) deliveryRoutes() {
	s.handle("GET /v1/webhooks/{id}/attempts", s.listAttempts, false)
	s.handle("GET /v1/events/{id}/attempts", s.eventAttempts, false)
	s.handle("GET /v1/webhooks/{id}/dead-letters", s.listDeadLetters, false)
	s.handle("POST /v1/webhooks/{id}/dead-letters/redrive", s.redriveAll, false)
	s.handle("GET /v1/dead-letters/{seq}", s.getDeadLetter, false)
	s.handle("POST /v1/dead-letters/{seq}/redrive", s.redriveOne, false)
}

// page reads ?limit= (1..500, default 50) and ?before= (a sequence).
func page(r *http.Request) (limit int, before uint64, err error) {
	limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, badRequest("bad_parameter", "limit", "limit must be 1 to 500")
		}
	}
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, 0, badRequest("bad_parameter", "before", "before must be a sequence number")
		}
	}
	return limit, before, nil
}

func (s *Server) accountOf(r *http.Request, id string) (string, error) {
	wh, err := s.webhook(r, id)
	if err != nil {
		return "", err
	}
	return wh.Account, nil
}

// AttemptView is one attempt record with its sequence (for ?before=).
type AttemptView = deliverylog.Attempt

// timeRange reads ?since= and ?until= (RFC 3339).
func timeRange(r *http.Request) (since, until time.Time, err error) {
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			if *p.t, err = time.Parse(time.RFC3339, v); err != nil {
				return since, until, badRequest("bad_parameter", p.name, p.name+" must be an RFC 3339 time")
			}
		}
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return since, until, badRequest("bad_parameter", "until", "until must be after since")
	}
	return since, until, nil
}

// logQuery is the delivery-log query of a listing's common parameters.
func logQuery(r *http.Request) (deliverylog.Query, error) {
	limit, before, err := page(r)
	if err != nil {
		return deliverylog.Query{}, err
	}
	since, until, err := timeRange(r)
	if err != nil {
		return deliverylog.Query{}, err
	}
	q := deliverylog.Query{Limit: limit, Since: since, Until: until, Allowed: func(a string) bool { return allowed(r, a) }}
	if before != 0 {
		q.Before = strconv.FormatUint(before, 10)
	}
	return q, nil
}

// logError turns the log's errors into the API's.
func logError(err error) error {
	var bq *deliverylog.BadQuery
	switch {
	case errors.As(err, &bq):
		return badRequest("bad_parameter", bq.Field, bq.Msg)
	case errors.Is(err, deliverylog.ErrBehind):
		return &Error{Status: http.StatusServiceUnavailable, Code: "log_catching_up", Message: err.Error()}
	}
	return err
}

// writePage answers a listing: its records and, when more follow, the
// cursor of the next page (pass it as ?before=).
func writePage[T any](w http.ResponseWriter, data []T, next string) {
	if data == nil {
		data = []T{}
	}
	out := map[string]any{"data": data, "has_more": next != ""}
	if next != "" {
		out["next"] = next
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAttempts(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	acct, err := s.accountOf(r, id)
	if err != nil {
		return err
	}
	q, err := logQuery(r)
	if err != nil {
		return err
	}
	p := r.URL.Query()
	q.Account, q.Webhook, q.Outcome, q.EventType, q.EventID = acct, id, p.Get("outcome"), p.Get("event_type"), p.Get("event_id")
	data, next, err := s.d.DeliveryLog.Attempts(r.Context(), q)
	if err != nil {
		return logError(err)
	}
	writePage(w, data, next)
	return nil
}

// eventAttempts lists one event's attempts across the webhooks the caller
// may see, newest first. Event ids are unique within an account only: the
// account query parameter narrows the list to one account's event.
func (s *Server) eventAttempts(w http.ResponseWriter, r *http.Request) error {
	q, err := logQuery(r)
	if err != nil {
		return err
	}
	q.EventID, q.Account = r.PathValue("id"), r.URL.Query().Get("account")
	data, next, err := s.d.DeliveryLog.Attempts(r.Context(), q)
	if err != nil {
		return logError(err)
	}
	writePage(w, data, next)
	return nil
}

// DeadLetterView is one dead letter.
type DeadLetterView struct {
	Seq      uint64          `json:"seq"`
	Webhook  string          `json:"webhook"`
	Job      string          `json:"job"`
	EventID  string          `json:"event_id"`
	Reason   string          `json:"reason"`
	Attempts int             `json:"attempts"`
	Status   int             `json:"status,omitempty"`
	FailedAt string          `json:"failed_at"`
	Event    json.RawMessage `json:"event"`
}

func deadLetterView(seq uint64, h nats.Header, data []byte) DeadLetterView {
	v := DeadLetterView{Seq: seq, Webhook: h.Get(bus.HeaderWebhook), Job: h.Get(bus.HeaderJob), EventID: h.Get(bus.HeaderEventID),
		Reason: h.Get(bus.HeaderReason), FailedAt: h.Get(bus.HeaderFailedAt)}
	v.Attempts, _ = strconv.Atoi(h.Get(bus.HeaderAttempts))
	v.Status, _ = strconv.Atoi(h.Get(bus.HeaderStatus))
	if json.Valid(data) {
		v.Event = data
	}
	return v
}

func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	acct, err := s.accountOf(r, id)
	if err != nil {
		return err
	}
	q, err := logQuery(r)
	if err != nil {
		return err
	}
	q.Account, q.Webhook = acct, id
	letters, next, err := s.d.DeliveryLog.DeadLetters(r.Context(), q)
	if err != nil {
		return logError(err)
	}
	out := make([]DeadLetterView, 0, len(letters))
	for _, m := range letters {
		out = append(out, deadLetterView(m.Seq, m.Header, m.Data))
	}
	writePage(w, out, next)
	return nil
}

func (s *Server) dlq(ctx context.Context) (jetstream.Stream, error) {
	return s.d.Bus.JS.Stream(ctx, s.d.Bus.Names.DLQStream)
}

func seqParam(r *http.Request) (uint64, error) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		return 0, badRequest("bad_parameter", "seq", "seq must be a sequence number")
	}
	return seq, nil
}

func (s *Server) getDeadLetter(w http.ResponseWriter, r *http.Request) error {
	seq, err := seqParam(r)
	if err != nil {
		return err
	}
	st, err := s.dlq(r.Context())
	if err != nil {
		return err
	}
	m, err := st.GetMsg(r.Context(), seq)
	if err != nil || !allowed(r, s.deadLetterAccount(m.Subject)) {
		return notFound("dead letter", strconv.FormatUint(seq, 10))
	}
	if _, err := s.webhook(r, m.Header.Get(bus.HeaderWebhook)); err != nil {
		return notFound("dead letter", strconv.FormatUint(seq, 10))
	}
	writeJSON(w, http.StatusOK, deadLetterView(seq, m.Header, m.Data))
	return nil
}

// redrive puts a dead letter back as a fresh job (attempt 1) and removes it
// from the dead letters.
func (s *Server) redrive(r *http.Request, st jetstream.Stream, seq uint64) error {
	ctx := r.Context()
	m, err := st.GetMsg(ctx, seq)
	if err != nil {
		return notFound("dead letter", strconv.FormatUint(seq, 10))
	}
	// Whose it is comes from the subject, which stays when the webhook is
	// deleted: another account's dead letter is absent, not "gone".
	acct := s.deadLetterAccount(m.Subject)
	if !allowed(r, acct) {
		return notFound("dead letter", strconv.FormatUint(seq, 10))
	}
	webhook := m.Header.Get(bus.HeaderWebhook)
	wh := s.d.Registry.Get(webhook)
	if wh != nil && wh.Account != acct {
		wh = nil // the id now names another account's webhook
	}
	if wh == nil {
		return &Error{Status: http.StatusConflict, Code: "webhook_gone", Message: fmt.Sprintf("webhook %q of this dead letter no longer exists", webhook)}
	}
	job := nats.NewMsg(s.d.Bus.Names.Delivery(wh.Account, webhook))
	job.Header.Set(bus.HeaderJob, m.Header.Get(bus.HeaderJob))
	job.Header.Set(bus.HeaderWebhook, webhook)
	job.Header.Set(bus.HeaderEventID, m.Header.Get(bus.HeaderEventID))
	job.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s#redrive-%d", m.Header.Get(bus.HeaderJob), seq))
	job.Data = m.Data
	if _, err := s.d.Bus.JS.PublishMsg(ctx, job); err != nil {
		return err
	}
	if err := st.DeleteMsg(ctx, seq); err != nil {
		return err
	}
	s.d.DeliveryLog.Forget(acct, webhook, seq)
	return nil
}

// deadLetterAccount is the account of a dead letter, read from its subject
// <prefix>.dlq.<account>.<webhook> ("" when it is not one).
func (s *Server) deadLetterAccount(subject string) string {
	rest, ok := strings.CutPrefix(subject, s.d.Bus.Names.Prefix+".dlq.")
	if !ok {
		return ""
	}
	acct, _, _ := strings.Cut(rest, ".")
	return acct
}

func (s *Server) redriveOne(w http.ResponseWriter, r *http.Request) error {
	seq, err := seqParam(r)
	if err != nil {
		return err
	}
	st, err := s.dlq(r.Context())
	if err != nil {
		return err
	}
	if err := s.redrive(r, st, seq); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"redriven": 1})
	return nil
}

// redriveAll redrives a webhook's dead letters (Svix's "recover"), those
// failed since ?since= and before ?until= (RFC 3339) when given.
func (s *Server) redriveAll(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	acct, err := s.accountOf(r, id)
	if err != nil {
		return err
	}
	since, until, err := timeRange(r)
	if err != nil {
		return err
	}
	letters, err := s.deadBetween(r, acct, id, since, until)
	if err != nil {
		return err
	}
	n, err := s.redriveLetters(r, letters)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"redriven": n})
	return nil
}

// deadBetween lists a webhook's dead letters written in [since, until)
// (zero: unbounded), newest first.
func (s *Server) deadBetween(r *http.Request, acct, id string, since, until time.Time) ([]deliverylog.Stored, error) {
	letters, _, err := s.d.DeliveryLog.DeadLetters(r.Context(), deliverylog.Query{Account: acct, Webhook: id, Since: since, Until: until})
	return letters, logError(err)
}

// redriveLetters redrives dead letters listed newest first, oldest first.
func (s *Server) redriveLetters(r *http.Request, letters []deliverylog.Stored) (int, error) {
	st, err := s.dlq(r.Context())
	if err != nil {
		return 0, err
	}
	n := 0
	for i := len(letters) - 1; i >= 0; i-- {
		if err := s.redrive(r, st, letters[i].Seq); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
