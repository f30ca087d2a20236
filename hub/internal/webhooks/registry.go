package webhooks

import (
	"sync/atomic"

	"github.com/hookhub/hookhub/hub/config"
)

// Registry holds the current snapshot. Readers call Snapshot; writers Replace.
type Registry struct {
	cur atomic.Pointer[Snapshot]
}

// NewRegistry returns a registry holding the config file's webhooks.
func NewRegistry(c *config.Config) (*Registry, error) {
	ws := make([]*Webhook, 0, len(c.Webhooks))
	for _, cw := range c.Webhooks {
		w, err := New(cw, c.Delivery.Retry, true)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	r := &Registry{}
	r.cur.Store(NewSnapshot(ws))
	return r, nil
}

// Snapshot is the current set of webhooks.
func (r *Registry) Snapshot() *Snapshot { return r.cur.Load() }

// Replace swaps in a new set.
func (r *Registry) Replace(s *Snapshot) { r.cur.Store(s) }

// Get returns the webhook with id in the current set, or nil.
func (r *Registry) Get(id string) *Webhook { return r.cur.Load().Get(id) }
