package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
	m, err := s.d.Bus.Archived(ctx, account, id, func(m *jetstream.RawStreamMsg) bool {
		e, err := event.Parse(m.Data)
		return err == nil && e.Account == account && e.ID == id
	})
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, absent
	}
	e, err := event.Parse(m.Data)
	if err != nil {
		return nil, err
	}
	v := &EventView{ID: id, Account: account, Type: e.Type, Event: m.Data, Stored: m.Time.UTC()}
	return v, nil
}
