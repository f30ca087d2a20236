package admin

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/routing"
)

// RejectedEventMax bounds the raw event shown with a rejected event.
const RejectedEventMax = 4 << 10

// RejectedEventView is one event the router refused.
type RejectedEventView struct {
	Seq     uint64    `json:"seq"`
	EventID string    `json:"event_id"`
	Account string    `json:"account"`
	Subject string    `json:"subject"`
	Reason  string    `json:"reason"`
	Time    time.Time `json:"time"`
	// Event is the raw event as published, cut at RejectedEventMax bytes
	// (Truncated says so): a refused event need not be JSON at all.
	Event     string `json:"event"`
	Truncated bool   `json:"truncated,omitempty"`
}

// listRejected lists rejected events, newest first. An account token sees
// its own account's only; an event whose subject names no account is the
// API token's alone.
func (s *Server) listRejected(w http.ResponseWriter, r *http.Request) error {
	q, err := logQuery(r)
	if err != nil {
		return err
	}
	account := r.URL.Query().Get("account")
	if sc := scope(r); sc != "" && account != "" && account != sc {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Field: "account", Message: "this token sees only account " + sc}
	}
	if account == "" {
		account = scope(r)
	}
	q.Account = account
	msgs, next, err := s.d.DeliveryLog.Rejected(r.Context(), q)
	if err != nil {
		return logError(err)
	}
	out := make([]RejectedEventView, 0, len(msgs))
	for _, m := range msgs {
		h := m.Header
		v := RejectedEventView{Seq: m.Seq, EventID: routing.RejectedEventID(h.Get(bus.HeaderEventID), m.Data),
			Account: h.Get(bus.HeaderAccount), Subject: h.Get(bus.HeaderSubject), Reason: h.Get(bus.HeaderReason), Time: m.Time.UTC()}
		v.Event, v.Truncated = cut(m.Data, RejectedEventMax)
		out = append(out, v)
	}
	writePage(w, out, next)
	return nil
}

// cut returns b as text of at most max bytes, ending on a whole UTF-8
// character, and whether anything was cut.
func cut(b []byte, max int) (string, bool) {
	if len(b) <= max {
		return string(b), false
	}
	b = b[:max]
	for i := 1; i < utf8.UTFMax && len(b) > 0; i++ { // a character cut in two
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return string(b), true
}
