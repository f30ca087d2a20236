package admin

import (
	"net/http"
	"sort"

	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

// AccountView is an account and its usage: how many webhooks it holds
// against its limit, and in which state.
type AccountView struct {
	ID string `json:"id"`
	// Configured says the config file lists the account (accounts[]); an
	// account also exists while it holds webhooks.
	Configured   bool `json:"configured"`
	Webhooks     int  `json:"webhooks"`
	WebhookLimit int  `json:"webhook_limit"`
	// Active webhooks receive events; Inactive ones were switched off
	// (active: false); Disabled ones the hub switched off after failing
	// too long (they count as active or inactive as well).
	Active   int `json:"active"`
	Inactive int `json:"inactive"`
	Disabled int `json:"disabled"`
	// FromConfig webhooks come from the config file (read only).
	FromConfig int `json:"from_config"`
}

// account is the view of one account, and whether it exists (configured,
// or holding webhooks).
func (s *Server) account(snap *webhooks.Snapshot, id string) (AccountView, bool) {
	v := AccountView{ID: id, WebhookLimit: s.d.Config.WebhookLimit(id)}
	for _, a := range s.d.Config.Accounts {
		if a.ID == id {
			v.Configured = true
		}
	}
	for _, wh := range snap.Account(id) {
		v.Webhooks++
		if wh.IsActive() {
			v.Active++
		} else {
			v.Inactive++
		}
		if wh.ReadOnly {
			v.FromConfig++
		}
		if s.d.Health != nil && s.d.Health.Get(wh.ID).Disabled {
			v.Disabled++
		}
	}
	return v, v.Configured || v.Webhooks > 0
}

// listAccounts lists the accounts with their usage: every one for the API
// token, its own for an account's token.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	snap := s.d.Registry.Snapshot()
	ids := map[string]bool{}
	if sc := scope(r); sc != "" {
		ids[sc] = true
	} else {
		for _, a := range s.d.Config.Accounts {
			ids[a.ID] = true
		}
		for _, wh := range snap.All() {
			ids[wh.Account] = true
		}
	}
	out := make([]AccountView, 0, len(ids))
	for id := range ids {
		v, _ := s.account(snap, id)
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

// getAccount answers one account and its usage. Another account, to an
// account's token, is absent, as its webhooks are.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("account")
	if !allowed(r, id) || !event.ValidAccount(id) {
		return notFound("account", id)
	}
	v, ok := s.account(s.d.Registry.Snapshot(), id)
	if !ok && scope(r) == "" {
		return notFound("account (neither in the config's accounts nor holding a webhook)", id)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
