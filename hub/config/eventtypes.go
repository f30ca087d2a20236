package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/schemas"
)

// EventType declares a custom event type: one of the platform's own events
// (a CRM's records, ActiveCampaign-style custom objects). Declared types
// behave as the catalog's: their events are checked against Schema at
// publish, listed, and can be test-sent with Sample.
type EventType struct {
	Type        string   `json:"type"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Category    string   `json:"category,omitempty"` // "custom" when empty
	Aliases     []string `json:"aliases,omitempty"`
	// Lists says the type's events carry the lists attribute.
	Lists bool `json:"lists,omitempty"`
	// Schema is the JSON Schema of the events' data; it must be
	// self-contained (no $ref to files or URLs).
	Schema json.RawMessage `json:"schema"`
	// Sample is a data payload that matches Schema, for test sends.
	Sample json.RawMessage `json:"sample"`
}

// DefaultCustomCategory is a declared type's category when it names none.
const DefaultCustomCategory = "custom"

// Catalog is the entry of a declared type, as the built-in catalog lists
// its own; account is "" for a type of the whole hub.
func (t EventType) Catalog(account string) schemas.EventType {
	cat := t.Category
	if cat == "" {
		cat = DefaultCustomCategory
	}
	title := t.Title
	if title == "" {
		title = t.Type
	}
	return schemas.EventType{Type: t.Type, Category: cat, Title: title, Description: t.Description, Aliases: t.Aliases,
		Lists: t.Lists, Account: account, Custom: true, Schema: t.Schema, Sample: t.Sample}
}

// DeclaredTypes are the custom types an account's events may have: the
// hub's own declarations, then the account's.
func (c *Config) DeclaredTypes(account string) []schemas.EventType {
	var out []schemas.EventType
	for _, t := range c.EventTypes {
		out = append(out, t.Catalog(""))
	}
	for _, a := range c.Accounts {
		if a.ID == account && account != "" {
			for _, t := range a.EventTypes {
				out = append(out, t.Catalog(a.ID))
			}
		}
	}
	return out
}

// KnownType reports whether eventType is built in or declared for account.
func (c *Config) KnownType(account, eventType string) bool {
	if _, ok := schemas.Lookup(eventType); ok {
		return true
	}
	return slices.ContainsFunc(c.DeclaredTypes(account), func(t schemas.EventType) bool { return t.Type == eventType })
}

var typeName = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

// catalogNamespaces are the first segments of the built-in types (email,
// contact, ...): a name under one of them that is not in the catalog is a
// mistake even where undeclared types are accepted.
func catalogNamespaces() map[string]bool {
	out := map[string]bool{}
	for _, t := range schemas.Catalog() {
		ns, _, _ := strings.Cut(t.Type, ".")
		out[ns] = true
	}
	return out
}

// checkEventTypes checks declarations at path (event_types, or
// accounts[i].event_types): each as CheckEventType says, and declared once
// (seen holds the hub's).
func checkEventTypes(path string, decls []EventType, seen map[string]string, bad func(path, format string, args ...any)) {
	local := map[string]string{}
	for j, t := range decls {
		at := fmt.Sprintf("%s[%d]", path, j)
		taken := func(typ string) string {
			if where, dup := seen[typ]; dup {
				return where
			}
			return local[typ]
		}
		if CheckEventType(at, t, taken, bad) {
			local[t.Type] = at
		}
	}
	for k, v := range local {
		if path == "event_types" {
			seen[k] = v
		}
	}
}

// CheckEventType checks one declaration at path at: a well-formed name,
// not built in, not under hookhub., not taken (taken says where it is
// declared already, "" when it is not), a self-contained schema that
// compiles and a sample that matches it. It reports whether the name may
// be recorded as declared.
func CheckEventType(at string, t EventType, taken func(eventType string) string, bad func(path, format string, args ...any)) bool {
	switch {
	case !typeName.MatchString(t.Type):
		bad(at+".type", "%q must be dot-separated lowercase words such as invoice.paid", t.Type)
		return false
	case strings.HasPrefix(t.Type, "hookhub."):
		bad(at+".type", "%q: types under hookhub. are the hub's own", t.Type)
		return false
	}
	if _, ok := schemas.Lookup(t.Type); ok {
		bad(at+".type", "%q is a built-in type (hookhub event-types %s); declare only types of your own", t.Type, t.Type)
		return false
	}
	if where := taken(t.Type); where != "" {
		bad(at+".type", "%q is already declared at %s", t.Type, where)
		return false
	}
	sch, err := schemacheck.CompileSelfContained(schemas.BaseURL+"declared/"+t.Type+".schema.json", t.Schema)
	if err != nil {
		bad(at+".schema", "is not a usable JSON Schema: %s", oneLine(err.Error()))
		return true
	}
	if len(t.Sample) == 0 {
		bad(at+".sample", "is required: a data payload that matches the schema, for test sends")
		return true
	}
	doc, err := schemacheck.Decode(t.Sample)
	if err != nil {
		bad(at+".sample", "is not JSON: %s", err)
		return true
	}
	for _, is := range schemacheck.Check(sch, doc) {
		p := at + ".sample"
		if is.Path != "" {
			p += "." + is.Path
		}
		bad(p, "does not match the type's schema: %s", is.Msg)
	}
	return true
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// checkDeclaredTypes checks the hub's and every account's declarations.
func (c *Config) checkDeclaredTypes(bad func(path, format string, args ...any)) {
	seen := map[string]string{}
	checkEventTypes("event_types", c.EventTypes, seen, bad)
	for i, a := range c.Accounts {
		checkEventTypes(fmt.Sprintf("accounts[%d].event_types", i), a.EventTypes, seen, bad)
	}
}

// eventNames are the names a webhook of account may subscribe to: every
// type it knows, each prefix wildcard over them (contact.*, hookhub.webhook.*)
// and *.
func (c *Config) eventNames(account string, more []schemas.EventType) (exact map[string]bool, wild map[string]bool) {
	exact, wild = map[string]bool{}, map[string]bool{"*": true}
	add := func(t string) {
		exact[t] = true
		for i := strings.IndexByte(t, '.'); i >= 0; {
			wild[t[:i]+".*"] = true
			j := strings.IndexByte(t[i+1:], '.')
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	for _, t := range schemas.Catalog() {
		add(t.Type)
	}
	for _, t := range append(c.DeclaredTypes(account), more...) {
		add(t.Type)
	}
	return exact, wild
}

// checkEvents checks a webhook's events: each names a type built in or
// declared for its account, a prefix wildcard over some, or *; each
// exclusion (!name) takes out something an inclusion takes in. A name that
// is none of these is refused with the closest names ("did you mean").
// With accept_undeclared_types, names outside the catalog's namespaces
// pass (the platform publishes types it did not declare).
func (c *Config) checkEvents(w Webhook, more []schemas.EventType, bad func(path, format string, args ...any)) {
	exact, wild := c.eventNames(w.Account, more)
	var ns map[string]bool
	if c.AcceptUndeclaredTypes {
		ns = catalogNamespaces()
	}
	includes := 0
	for i, e := range w.Events {
		name, excl := strings.CutPrefix(e, "!")
		if !excl {
			includes++
		}
		if exact[name] || wild[name] && name != "*" || name == "*" && !excl {
			continue
		}
		if name == "*" {
			bad(fmt.Sprintf("events[%d]", i), "\"!*\" would exclude everything")
			continue
		}
		first, _, _ := strings.Cut(name, ".")
		if c.AcceptUndeclaredTypes && !ns[strings.TrimSuffix(first, "*")] {
			continue
		}
		known := make([]string, 0, len(exact)+len(wild))
		for k := range exact {
			known = append(known, k)
		}
		for k := range wild {
			known = append(known, k)
		}
		sort.Strings(known)
		msg := fmt.Sprintf("%q is not an event type", e)
		if strings.HasSuffix(name, ".*") {
			msg = fmt.Sprintf("%q matches no event type", e)
		}
		if s := schemas.Suggest(name, known); len(s) > 0 {
			if excl {
				for k := range s {
					s[k] = "!" + s[k]
				}
			}
			msg += fmt.Sprintf(" (did you mean %s?)", quoteList(s))
		}
		bad(fmt.Sprintf("events[%d]", i), "%s; `hookhub event-types` lists the types, and event_types declares your own", msg)
	}
	if includes == 0 && len(w.Events) > 0 {
		bad("events", "has only exclusions: name what to include too, such as [\"email.*\", \"!email.opened\"]")
	}
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// wants reports whether events selects eventType, as routing reads them:
// exclusions win, * leaves out the hub's own hookhub. types.
func wants(events []string, eventType string) bool {
	in := false
	for _, e := range events {
		name, excl := strings.CutPrefix(e, "!")
		hit := name == eventType ||
			strings.HasSuffix(name, "*") && strings.HasPrefix(eventType, strings.TrimSuffix(name, "*")) && (name != "*" || !strings.HasPrefix(eventType, "hookhub."))
		if hit && excl {
			return false
		}
		in = in || hit
	}
	return in
}

// WebhookWarnings are what is legal in a webhook but surely not what its
// owner meant: lists that can never match, because none of the types its
// events select carries lists (the catalog says which do, as
// ActiveCampaign shows its list selector only for such events). more are
// types declared beyond the config (through the API).
func (c *Config) WebhookWarnings(w Webhook, more ...schemas.EventType) []string {
	if len(w.Lists) == 0 {
		return nil
	}
	known := map[string]bool{}
	var carry []string
	for _, t := range slices.Concat(schemas.Catalog(), c.DeclaredTypes(w.Account), more) {
		known[t.Type] = true
		if !wants(w.Events, t.Type) {
			continue
		}
		if t.Lists {
			return nil
		}
	}
	for _, e := range w.Events {
		if name := strings.TrimPrefix(e, "!"); !strings.HasSuffix(name, "*") && !known[name] {
			return nil // an undeclared type (accept_undeclared_types) may carry lists
		}
	}
	for _, t := range schemas.Catalog() {
		if t.Lists {
			ns, _, _ := strings.Cut(t.Type, ".")
			if !slices.Contains(carry, ns+".*") {
				carry = append(carry, ns+".*")
			}
		}
	}
	return []string{fmt.Sprintf("lists: can never match: none of the types its events select (%s) concern lists; types that do are under %s",
		strings.Join(w.Events, ", "), strings.Join(carry, ", "))}
}

// Warnings are the config's warnings, each with its file and path.
func (c *Config) Warnings() []string {
	var out []string
	for i, w := range c.Webhooks {
		for _, msg := range c.WebhookWarnings(w) {
			out = append(out, fmt.Sprintf("%s: webhooks[%d].%s", c.File, i, msg))
		}
	}
	return out
}
