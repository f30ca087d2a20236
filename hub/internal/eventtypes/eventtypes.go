// Package eventtypes is the set of event types a hub knows: the built-in
// catalog (schemas) and the custom types the config declares, for the
// whole hub or for one account. It answers which types an account's events
// may have, with their schemas, samples and descriptions.
package eventtypes

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/schemas"
)

// Registry is safe for concurrent use: the config's declarations never
// change, the API's are swapped whole (Store).
type Registry struct {
	builtin *schemacheck.Set
	// declared: account ("" for the whole hub) -> type -> declaration,
	// from the config file.
	declared declMap
	// api: the same, declared through the management API.
	api atomic.Pointer[declMap]
	// AcceptUndeclared delivers events of unknown types unchecked.
	AcceptUndeclared bool
}

type declMap map[string]map[string]declared

type declared struct {
	et  schemas.EventType
	sch *jsonschema.Schema
}

// New builds the registry of cfg's declarations over the built-in set.
// cfg has been validated (config.Load), so its schemas compile.
func New(cfg *config.Config, builtin *schemacheck.Set) (*Registry, error) {
	r := &Registry{builtin: builtin, declared: declMap{}, AcceptUndeclared: cfg.AcceptUndeclaredTypes}
	r.api.Store(&declMap{})
	add := func(account string, ts []config.EventType) error {
		for _, t := range ts {
			sch, err := schemacheck.CompileSelfContained(schemas.BaseURL+"declared/"+account+"/"+t.Type+".schema.json", t.Schema)
			if err != nil {
				return fmt.Errorf("event type %s: schema: %w", t.Type, err)
			}
			if r.declared[account] == nil {
				r.declared[account] = map[string]declared{}
			}
			r.declared[account][t.Type] = declared{t.Catalog(account), sch}
		}
		return nil
	}
	if err := add("", cfg.EventTypes); err != nil {
		return nil, err
	}
	for _, a := range cfg.Accounts {
		if err := add(a.ID, a.EventTypes); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Lookup returns the type as account's events see it: built in, declared
// for the hub, or declared for account.
func (r *Registry) Lookup(account, eventType string) (schemas.EventType, bool) {
	if t, ok := schemas.Lookup(eventType); ok {
		return t, true
	}
	if d, ok := r.find(account, eventType); ok {
		return d.et, true
	}
	return schemas.EventType{}, false
}

func (r *Registry) find(account, eventType string) (declared, bool) {
	if r == nil {
		return declared{}, false
	}
	for _, m := range []declMap{r.declared, *r.api.Load()} {
		if d, ok := m[""][eventType]; ok {
			return d, true
		}
		if account == "" {
			continue
		}
		if d, ok := m[account][eventType]; ok {
			return d, true
		}
	}
	return declared{}, false
}

// InConfig reports whether the config file declares eventType for
// account ("" for the hub): such a declaration cannot be changed through
// the API.
func (r *Registry) InConfig(account, eventType string) bool {
	_, ok := r.declared[account][eventType]
	return ok
}

// APIDeclared are the types declared through the API that account's
// events may have (the hub's and the account's).
func (r *Registry) APIDeclared(account string) []schemas.EventType {
	if r == nil {
		return nil
	}
	m := *r.api.Load()
	var out []schemas.EventType
	for acct, ts := range m {
		if acct == "" || acct == account && account != "" {
			for _, d := range ts {
				out = append(out, d.et)
			}
		}
	}
	return out
}

// List returns the types account's events may have, sorted by type: the
// catalog's, the hub's declared ones and the account's. With account ""
// and every set (an admin's view), every account's declared types too.
func (r *Registry) List(account string, every bool) []schemas.EventType {
	out := slices.Clone(schemas.Catalog())
	if r != nil {
		for _, m := range []declMap{r.declared, *r.api.Load()} {
			for acct, ts := range m {
				if acct == "" || acct == account || every && account == "" {
					for _, d := range ts {
						out = append(out, d.et)
					}
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Account < out[j].Account
	})
	return out
}

// Names are the types known to account, for "did you mean" hints.
func (r *Registry) Names(account string) []string {
	var out []string
	for _, t := range r.List(account, false) {
		out = append(out, t.Type)
	}
	return out
}

// Validate checks the decoded data doc of an event of account and
// eventType against the type's schema. known is false when the type is
// neither built in nor declared for account; then issues is nil.
func (r *Registry) Validate(account, eventType string, doc any) (issues []schemacheck.Issue, known bool, err error) {
	if _, ok := schemas.Lookup(eventType); ok {
		issues, err := r.builtin.Validate("events/"+eventType+".schema.json", doc)
		return issues, true, err
	}
	if d, ok := r.find(account, eventType); ok {
		return schemacheck.Check(d.sch, doc), true, nil
	}
	return nil, false, nil
}

// Undeclared says why an event of eventType from account is refused: the
// type is unknown to it, with the closest names.
func (r *Registry) Undeclared(account, eventType string) string {
	msg := fmt.Sprintf("invalid event: type: %q is neither in the catalog nor declared for account %q", eventType, account)
	if s := schemas.Suggest(eventType, r.Names(account)); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return msg + "; declare it (the config's event_types, or PUT /v1/event-types/{type}), or set accept_undeclared_types"
}

// Categories are the distinct categories of List(account, every).
func Categories(ts []schemas.EventType) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.Category) {
			out = append(out, t.Category)
		}
	}
	sort.Strings(out)
	return out
}

// Search keeps the types of ts that answer q (schemas.EventType.Matches).
func Search(ts []schemas.EventType, q string) []schemas.EventType {
	if strings.TrimSpace(q) == "" {
		return ts
	}
	return slices.DeleteFunc(slices.Clone(ts), func(t schemas.EventType) bool { return !t.Matches(q) })
}

// Conflict says why eventType cannot be declared for account ("" for the
// hub) through the API, "" when it can: the config file declares it there
// or for the whole hub, the API declares it for the whole hub (for an
// account's declaration), or an account declares it (for the hub's). The
// API's own declaration for the same account is replaced, no conflict.
func (r *Registry) Conflict(account, eventType string) string {
	api := *r.api.Load()
	switch {
	case r.InConfig(account, eventType) || r.InConfig("", eventType):
		return "the config file"
	case account != "" && api[""][eventType].et.Type != "":
		return "the whole hub"
	}
	if account == "" {
		for _, m := range []declMap{r.declared, api} {
			for acct, ts := range m {
				if _, ok := ts[eventType]; ok && acct != "" {
					return "account " + acct
				}
			}
		}
	}
	return ""
}

// MaxAPIDeclared bounds the types the API may declare for one account (or
// for the hub).
const MaxAPIDeclared = 200

// APICount is the number of types the API declares for account ("" for
// the hub), and whether eventType is among them.
func (r *Registry) APICount(account, eventType string) (n int, has bool) {
	ts := (*r.api.Load())[account]
	_, has = ts[eventType]
	return len(ts), has
}
