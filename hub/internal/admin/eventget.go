package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/event"
)

// EventView is an event as the archive keeps it (events that matched a
// webhook, for event_retention).
type EventView struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	Type    string    `json:"type"`
	Stored  time.Time `json:"stored"`
	// Event is the CloudEvent as published.
	Event json.RawMessage `json:"event"`
}

// getEvent answers one event of the archive the resend route reads. Event
// ids are unique within an account only, so the account is part of the key:
// the account query parameter, or the token's own account. To an account
// token, another account's event answers as an absent one does.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	id, account := r.PathValue("id"), r.URL.Query().Get("account")
	if sc := scope(r); sc != "" {
		if account != "" && account != sc {
			return notFound("event (kept for event_retention after it matched a webhook)", id)
		}
		account = sc
	}
	if account == "" {
		return badRequest("bad_parameter", "account", "account is required: event ids are unique within an account only (?account=...)")
	}
	v, err := s.archived(r.Context(), account, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// archived finds event id of account in the archive: not found (404) when
// it is not there, or was another account's.
func (s *Server) archived(ctx context.Context, account, id string) (*EventView, error) {
	absent := notFound("event (kept for event_retention after it matched a webhook)", id)
	if !event.ValidAccount(account) {
		return nil, absent
	}
	// The archive's subject of (account, id) is shared with the events
	// whose hash begins alike (bus.Names.Archive): past some 65,000 events
	// most hold several. Its last message is the usual answer; otherwise
	// its messages are read in order, and the newest copy of the event is
	// the answer (an event published again after the de-duplication window
	// is stored again).
	n := s.d.Bus.Names
	st, err := s.d.Bus.JS.Stream(ctx, n.ArchiveStream)
	if err != nil {
		return nil, err
	}
	subject := n.Archive(account, id)
	m, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, absent
	}
	if err != nil {
		return nil, err
	}
	e, ok := archivedCopy(m, account, id)
	if !ok {
		last := m.Sequence
		m = nil
		for seq := uint64(1); seq < last; {
			next, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return nil, err
			}
			if next.Sequence >= last {
				break
			}
			if ne, ok := archivedCopy(next, account, id); ok {
				m, e = next, ne
			}
			seq = next.Sequence + 1
		}
		if m == nil {
			return nil, absent
		}
	}
	v := &EventView{ID: id, Account: account, Type: e.Type, Event: m.Data, Stored: m.Time.UTC()}
	return v, nil
}

// archivedCopy reads m as a copy of event id of account in the archive.
func archivedCopy(m *jetstream.RawStreamMsg, account, id string) (*event.Event, bool) {
	if m.Header.Get(bus.HeaderEventID) != id {
		return nil, false
	}
	e, err := event.Parse(m.Data)
	if err != nil || e.Account != account || e.ID != id {
		return nil, false
	}
	return e, true
}
