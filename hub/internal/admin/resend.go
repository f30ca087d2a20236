package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/deliverylog"
)

func (s *Server) moreRoutes() {
	s.handle("POST /v1/webhooks/{id}/resend", s.resend, false)
	s.handle("GET /v1/webhooks/{id}/stats", s.stats, false)
}

// resend delivers an event to a webhook again, as a fresh job (attempt 1,
// the same webhook-id). The event comes from the archive, where matched
// events stay for event_retention (72h by default).
func (s *Server) resend(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.webhook(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	var body struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(raw, &body) != nil || body.EventID == "" {
		return badRequest("validation_failed", "event_id", "event_id is required")
	}
	// Event ids are unique within an account only: look for the id among
	// the events of the webhook's account, never another's.
	// Another account's event is absent: the same answer as no event.
	ev, err := s.archived(r.Context(), wh.Account, body.EventID)
	if err != nil {
		return err
	}
	data := ev.Event
	n := s.d.Bus.Names
	job := nats.NewMsg(n.Delivery(wh.Account, wh.ID))
	jobID := accept.JobID(body.EventID, wh.ID)
	job.Header.Set(bus.HeaderJob, jobID)
	job.Header.Set(bus.HeaderWebhook, wh.ID)
	job.Header.Set(bus.HeaderEventID, body.EventID)
	job.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s#resend-%d", jobID, time.Now().UnixNano()))
	job.Data = data
	if _, err := s.d.Bus.JS.PublishMsg(r.Context(), job); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"job": jobID})
	return nil
}

// Stats are a webhook's delivery figures: attempts by outcome over the
// whole attempt log (since Since), the last day and the last hour (test
// sends not counted), and what waits for the webhook now.
type Stats struct {
	Delivered      int         `json:"delivered"`
	Failed         int         `json:"failed"`
	DeadLettered   int         `json:"dead_lettered"`
	Skipped        int         `json:"skipped"`
	LastDay        WindowStats `json:"last_day"`
	LastHour       WindowStats `json:"last_hour"`
	PendingJobs    uint64      `json:"pending_jobs"`
	PendingRetries uint64      `json:"pending_retries"`
	DeadLetters    uint64      `json:"dead_letters"`
	LastSuccess    *time.Time  `json:"last_success,omitempty"`
	LastFailure    *time.Time  `json:"last_failure,omitempty"`
	Since          time.Time   `json:"since"`
}

// WindowStats are a webhook's attempts by outcome over a window. Failed
// counts every attempt that did not deliver (retried or dead-lettered).
type WindowStats struct {
	Delivered    int `json:"delivered"`
	Failed       int `json:"failed"`
	DeadLettered int `json:"dead_lettered"`
	Skipped      int `json:"skipped"`
}

func windowStats(c deliverylog.Counts) WindowStats {
	return WindowStats{Delivered: c.Delivered, Failed: c.Failed(), DeadLettered: c.DeadLettered, Skipped: c.Skipped}
}

// stats reads the webhook's counts from the delivery log and what waits
// for it from the streams.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.webhook(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	n := s.d.Bus.Names
	win, err := s.d.DeliveryLog.Counts(r.Context(), wh.Account, wh.ID)
	if err != nil {
		return logError(err)
	}
	all := windowStats(win.All)
	st := Stats{Delivered: all.Delivered, Failed: all.Failed, DeadLettered: all.DeadLettered, Skipped: all.Skipped,
		LastDay: windowStats(win.Day), LastHour: windowStats(win.Hour), Since: win.Since.UTC()}
	if !win.LastSuccess.IsZero() {
		t := win.LastSuccess.UTC()
		st.LastSuccess = &t
	}
	if !win.LastFailure.IsZero() {
		t := win.LastFailure.UTC()
		st.LastFailure = &t
	}
	if s.d.Health != nil {
		// The one source the webhook's view shows too (the attempt log
		// keeps its window; the health state keeps the last success for
		// good).
		st.LastSuccess = s.d.Health.LastSuccess(wh.ID)
	}
	st.PendingJobs = s.count(r, n.DeliveriesStream, n.Delivery(wh.Account, wh.ID))
	st.PendingRetries = s.count(r, n.DeliveriesStream, n.RetriesOf(wh.Account, wh.ID))
	st.DeadLetters = s.count(r, n.DLQStream, n.DeadLetter(wh.Account, wh.ID))
	writeJSON(w, http.StatusOK, st)
	return nil
}

// count is how many messages a stream holds on subjects matching filter.
func (s *Server) count(r *http.Request, stream, filter string) uint64 {
	st, err := s.d.Bus.JS.Stream(r.Context(), stream)
	if err != nil {
		return 0
	}
	info, err := st.Info(r.Context(), jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0
	}
	var total uint64
	for _, c := range info.State.Subjects {
		total += c
	}
	return total
}
