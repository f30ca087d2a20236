package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookhub/hookhub/sdk/event"
)

// hook is a webhook as the API shows it (secrets masked).
type hook struct {
	ID             string            `json:"id"`
	Account        string            `json:"account"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	URL            string            `json:"url"`
	Active         *bool             `json:"active"`
	Events         []string          `json:"events"`
	Initiators     []string          `json:"initiators"`
	Lists          []string          `json:"lists"`
	Auth           *hookAuth         `json:"auth"`
	Headers        map[string]string `json:"headers"`
	Secret         string            `json:"secret"`
	Batch          *hookBatch        `json:"batch"`
	Plugin         *hookPlugin       `json:"plugin"`
	ReadOnly       bool              `json:"read_only"`
	Disabled       bool              `json:"disabled"`
	DisabledReason string            `json:"disabled_reason"`
	DisabledAt     *time.Time        `json:"disabled_at"`
	LastSuccess    *time.Time        `json:"last_success"`
	FailingSince   *time.Time        `json:"failing_since"`
}

type hookAuth struct {
	Type     string `json:"type"`
	Username string `json:"username"`
	// OAuth2 client credentials (the client secret is write-only).
	TokenURL string   `json:"token_url"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
	Audience string   `json:"audience"`
}

// hookBatch is a webhook's batching (absent: one event per request).
type hookBatch struct {
	MaxEvents int    `json:"max_events"`
	MaxWait   string `json:"max_wait"`
}

// hookPlugin is a webhook's plugin, with its config as the API shows it
// (the plugin's secret fields masked).
type hookPlugin struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config"`
}

// PluginName is the webhook's plugin ("" for none).
func (h hook) PluginName() string {
	if h.Plugin == nil {
		return ""
	}
	return h.Plugin.Name
}

// PluginConfig is the plugin's config, indented, for the form.
func (h hook) PluginConfig() string {
	if h.Plugin == nil || len(h.Plugin.Config) == 0 || string(h.Plugin.Config) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, h.Plugin.Config, "", "  ") != nil {
		return string(h.Plugin.Config)
	}
	return buf.String()
}

// IsActive is the webhook's own switch (absent means active).
func (h hook) IsActive() bool { return h.Active == nil || *h.Active }

// Title is the name, or the id when it has none.
func (h hook) Title() string {
	if h.Name != "" {
		return h.Name
	}
	return h.ID
}

// EventsSummary is a short line of the subscribed events.
func (h hook) EventsSummary() string {
	switch n := len(h.Events); {
	case n == 0:
		return "none"
	case n <= 3:
		return strings.Join(h.Events, ", ")
	default:
		return fmt.Sprintf("%s and %d more", strings.Join(h.Events[:2], ", "), n-2)
	}
}

// AuthType is the receiver authentication as the form names it.
func (h hook) AuthType() string {
	if h.Auth == nil || h.Auth.Type == "" || h.Auth.Type == "none" {
		return "none"
	}
	return h.Auth.Type
}

// TestTypes are those of types (its account's, as the API lists them) the
// webhook subscribes to, for a test send.
func (h hook) TestTypes(types []eventType) []string {
	var out []string
	for _, t := range types {
		if wants(h.Events, t.Type) {
			out = append(out, t.Type)
		}
	}
	return out
}

// eventType is an entry of the API's GET /v1/event-types: built in, or
// declared for the hub or for one account.
type eventType struct {
	Type        string `json:"type"`
	Category    string `json:"category"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Account     string `json:"account"`
	Custom      bool   `json:"custom"`
}

// eventTypes are the types the API offers account's webhooks (the
// catalog, the hub's declared ones and the account's), asked as the
// session: an account token gets its own account's whatever account says,
// and account "" gives the hub-wide types only.
func (c *Console) eventTypes(r *http.Request, s *session, account string) ([]eventType, error) {
	if account == "*" {
		account = "" // the API's "every account": not one account's types
	}
	types, res := getList[eventType](c, r, s, "/v1/event-types?account="+url.QueryEscape(account))
	if res.status != http.StatusOK {
		return nil, errors.New(res.err().Message)
	}
	return types, nil
}

// wants mirrors the API's subscription patterns (exact, "prefix.*", "*",
// which leaves out the hub's own operational types) to offer test types.
func wants(patterns []string, typ string) bool {
	for _, p := range patterns {
		switch {
		case p == typ:
			return true
		case p == "*":
			if !strings.HasPrefix(typ, "hookhub.") {
				return true
			}
		case strings.HasSuffix(p, "*") && strings.HasPrefix(typ, strings.TrimSuffix(p, "*")):
			return true
		}
	}
	return false
}

// group is one account's webhooks and its usage.
type group struct {
	Account string
	Count   int
	Limit   int
	Hooks   []row
}

// row is a webhook as the list shows it, worked out once (the template
// would call the methods again at each use).
type row struct {
	hook
	Title         string
	EventsSummary string
	TestTypes     []string
	IsActive      bool
}

// AtLimit reports whether the account may add no more webhooks.
func (g group) AtLimit() bool { return g.Count >= g.Limit }

func (c *Console) webhookRoutes() {
	c.mux.HandleFunc("GET "+Path+"webhooks", c.authed(c.list))
	c.mux.HandleFunc("GET "+Path+"webhooks/new", c.authed(c.newForm))
	c.mux.HandleFunc("POST "+Path+"webhooks", c.authed(c.create))
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}/edit", c.authed(c.editForm))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}", c.authed(c.update))
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}/delete", c.authed(c.confirmDelete))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/delete", c.authed(c.delete))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/test", c.authed(c.test))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/activate", c.authed(c.action("activate", "activated")))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/deactivate", c.authed(c.action("deactivate", "deactivated")))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/enable", c.authed(c.action("enable", "enabled again")))
	c.mux.HandleFunc("POST "+Path+"webhooks/{id}/rotate", c.authed(c.rotate))
}

func hookPath(id string, rest string) string { return "/v1/webhooks/" + url.PathEscape(id) + rest }

// failed shows an API error on a page of its own (one not tied to a form).
func (c *Console) failed(w http.ResponseWriter, r *http.Request, s *session, res apiResult) {
	c.render(w, r, s, res.status, "message", map[string]any{"Title": "Not done", "Message": res.err().Message, "Back": true})
}

func (c *Console) list(w http.ResponseWriter, r *http.Request, s *session) {
	hooks, res := getList[hook](c, r, s, "/v1/webhooks")
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	c.render(w, r, s, http.StatusOK, "webhooks", map[string]any{"Title": "Webhooks", "Groups": c.groups(r, s, hooks)})
}

// groups sorts the webhooks by account: every configured account (or the
// session's one), each with its usage against its limit, and each webhook
// with the types of its account it may be sent as a test.
func (c *Console) groups(r *http.Request, s *session, hooks []hook) []group {
	byAcct := map[string]*group{}
	add := func(a string) *group {
		if g := byAcct[a]; g != nil {
			return g
		}
		g := &group{Account: a, Limit: c.o.Config.WebhookLimit(a)}
		byAcct[a] = g
		return g
	}
	if s.scope != "" {
		add(s.scope)
	} else {
		for _, a := range c.o.Config.Accounts {
			add(a.ID)
		}
	}
	types := map[string][]eventType{} // by account, asked once
	for _, h := range hooks {
		g := add(h.Account)
		ts, asked := types[h.Account]
		if !asked {
			var err error
			if ts, err = c.eventTypes(r, s, h.Account); err != nil {
				c.log.Warn().Err(err).Str("account", h.Account).Msg("console: the event types could not be read; no test sends offered")
			}
			types[h.Account] = ts
		}
		g.Hooks = append(g.Hooks, row{hook: h, Title: h.Title(), EventsSummary: h.EventsSummary(), TestTypes: h.TestTypes(ts), IsActive: h.IsActive()})
		g.Count++
	}
	out := make([]group, 0, len(byAcct))
	for _, g := range byAcct {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

// formData is what the create and edit form shows.
type formData struct {
	Edit        bool
	Hook        hook
	Accounts    []string
	Categories  []category
	OtherEvents string
	// TypesAccount is the account whose types the picker offers ("": the
	// hub-wide ones).
	TypesAccount string
	Initiators   []string
	Plugins      []string // the plugins a webhook may use
	Headers      []header
	SavedAuth    string // the stored webhook's auth type ("" for a new one): left empty, its secret is kept
	Retype       bool   // secrets were typed: a refused form asks for them again (never drawn back into the page)
	Errors       map[string]string
	Problem      string
}

type category struct {
	Name     string // as the catalog names it
	Label    string // as people do
	Wildcard string // "prefix.*" when every type of it shares one prefix
	All      bool
	Events   []eventChoice
}

type eventChoice struct {
	Type, Title, Description string
	Checked                  bool
}

// header is a row of the custom headers; its value is never drawn back
// into the page.
type header struct {
	Name  string
	Saved bool // the stored webhook has it: left empty, its value is kept
}

// Error is the message for a field, if any.
func (f formData) Error(field string) string { return f.Errors[field] }

// categoryLabels are the catalog's categories as the seed providers' screens
// name them; others show capitalised.
var categoryLabels = map[string]string{"marketing": "Marketing email", "transactional": "Transactional email",
	"sms": "SMS", "hub": "Hub (operational)", "list": "Lists", "contact": "Contacts", "deal": "Deals",
	"campaign": "Campaigns", "account": "Account", "import": "Imports"}

var initiators = []string{event.InitiatorContact, event.InitiatorUser, event.InitiatorSystem, event.InitiatorAPI}

// catalogChoices lays types out by category, with the webhook's patterns
// checked; patterns the picker cannot show come back as other.
func catalogChoices(types []eventType, patterns []string) ([]category, string) {
	byCat := map[string]*category{}
	var order []string
	for _, t := range types {
		if t.Category == "" {
			t.Category = "custom" // as the hub files a declared type that names none
		}
		cat := byCat[t.Category]
		if cat == nil {
			cat = &category{Name: t.Category, Label: categoryLabels[t.Category]}
			if cat.Label == "" {
				cat.Label = strings.ToUpper(t.Category[:1]) + t.Category[1:]
			}
			byCat[t.Category] = cat
			order = append(order, t.Category)
		}
		cat.Events = append(cat.Events, eventChoice{Type: t.Type, Title: t.Title, Description: t.Description})
	}
	sort.Strings(order)
	shown := map[string]bool{}
	out := make([]category, 0, len(order))
	for _, name := range order {
		cat := byCat[name]
		prefix := ""
		for i, e := range cat.Events {
			p, _, _ := strings.Cut(e.Type, ".")
			if i == 0 {
				prefix = p
			} else if p != prefix {
				prefix = ""
				break
			}
		}
		if prefix != "" {
			// A wildcard covering types of another category is not this one's.
			for _, t := range types {
				if t.Category != name && strings.HasPrefix(t.Type, prefix+".") {
					prefix = ""
					break
				}
			}
		}
		if prefix != "" {
			cat.Wildcard = prefix + ".*"
			cat.All = has(patterns, cat.Wildcard)
			shown[cat.Wildcard] = true
		}
		for i := range cat.Events {
			cat.Events[i].Checked = cat.All || has(patterns, cat.Events[i].Type)
			shown[cat.Events[i].Type] = true
		}
		out = append(out, *cat)
	}
	var other []string
	for _, p := range patterns {
		if !shown[p] {
			other = append(other, p)
		}
	}
	return out, strings.Join(other, ", ")
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *Console) accounts(s *session) []string {
	if s.scope != "" {
		return []string{s.scope}
	}
	var out []string
	for _, a := range c.o.Config.Accounts {
		out = append(out, a.ID)
	}
	return out
}

func (c *Console) showForm(w http.ResponseWriter, r *http.Request, s *session, status int, f formData) {
	if f.Categories == nil {
		// The types of the webhook's account (on a new form, the account
		// given so far; none yet: the hub-wide ones).
		f.TypesAccount = f.Hook.Account
		if s.scope != "" {
			f.TypesAccount = s.scope
		}
		types, err := c.eventTypes(r, s, f.TypesAccount)
		if err != nil {
			c.log.Warn().Err(err).Str("account", f.TypesAccount).Msg("console: the event types could not be read")
			if f.Problem == "" {
				f.Problem = "The event types could not be read (" + err.Error() + "): name the events under Other event patterns."
			}
		}
		f.Categories, f.OtherEvents = catalogChoices(types, f.Hook.Events)
	}
	f.Accounts = c.accounts(s)
	f.Initiators = initiators
	f.Plugins = c.pluginNames(f.Hook.PluginName())
	for len(f.Headers) < 1 {
		f.Headers = append(f.Headers, header{})
	}
	title := "Add a webhook"
	if f.Edit {
		title = "Edit " + f.Hook.Title()
	}
	c.render(w, r, s, status, "form", map[string]any{"Title": title, "Form": f})
}

func (c *Console) newForm(w http.ResponseWriter, r *http.Request, s *session) {
	acct := r.URL.Query().Get("account")
	if s.scope != "" {
		acct = s.scope
	}
	yes := true
	c.showForm(w, r, s, http.StatusOK, formData{Hook: hook{Account: acct, Active: &yes}})
}

func (c *Console) get(r *http.Request, s *session, id string) (hook, map[string]any, apiResult) {
	res := c.call(r.Context(), r, s, http.MethodGet, hookPath(id, ""), nil)
	var h hook
	var doc map[string]any
	if res.status == http.StatusOK {
		_ = json.Unmarshal(res.body, &h)
		_ = json.Unmarshal(res.body, &doc)
	}
	return h, doc, res
}

func (c *Console) editForm(w http.ResponseWriter, r *http.Request, s *session) {
	h, _, res := c.get(r, s, r.PathValue("id"))
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	f := formData{Edit: true, Hook: h, SavedAuth: h.AuthType()}
	for k := range h.Headers {
		f.Headers = append(f.Headers, header{Name: k, Saved: true})
	}
	sort.Slice(f.Headers, func(i, j int) bool { return f.Headers[i].Name < f.Headers[j].Name })
	c.showForm(w, r, s, http.StatusOK, f)
}

// fromForm reads the form into the fields it sets of a webhook document, and
// the form as it is to show again.
func fromForm(r *http.Request, edit bool, cur hook) (map[string]any, formData) {
	_ = r.ParseForm()
	v := r.PostForm
	f := formData{Edit: edit, Hook: cur, Errors: map[string]string{}}
	if edit {
		f.SavedAuth = cur.AuthType()
	}
	h := &f.Hook
	h.Name = strings.TrimSpace(v.Get("name"))
	h.Description = strings.TrimSpace(v.Get("description"))
	h.URL = strings.TrimSpace(v.Get("url"))
	active := v.Get("active") == "on"
	h.Active = &active
	if !edit {
		h.Account = strings.TrimSpace(v.Get("account"))
	}
	// Events: a whole category checked is its wildcard; then its single
	// types are not listed apart.
	var events []string
	wild := map[string]bool{}
	for _, p := range v["category"] {
		if strings.HasSuffix(p, ".*") {
			wild[strings.TrimSuffix(p, "*")] = true
			events = append(events, p)
		}
	}
	for _, t := range v["events"] {
		p, _, _ := strings.Cut(t, ".")
		if !wild[p+"."] && !has(events, t) {
			events = append(events, t)
		}
	}
	for _, t := range splitList(v.Get("other_events")) {
		if !has(events, t) {
			events = append(events, t)
		}
	}
	h.Events = events
	h.Initiators = nil
	for _, i := range v["initiators"] {
		if has(initiators, i) {
			h.Initiators = append(h.Initiators, i)
		}
	}
	h.Lists = splitList(v.Get("lists"))
	f.Retype = v.Get("password") != "" || v.Get("token") != "" || v.Get("client_secret") != ""
	for _, hv := range v["header_value"] {
		f.Retype = f.Retype || hv != ""
	}

	doc := map[string]any{"url": h.URL, "events": events, "active": active}
	if !edit {
		doc["account"] = h.Account
	}
	for k, val := range map[string]string{"name": h.Name, "description": h.Description} {
		if val != "" {
			doc[k] = val
		}
	}
	if len(h.Initiators) > 0 {
		doc["initiators"] = h.Initiators
	}
	if len(h.Lists) > 0 {
		doc["lists"] = h.Lists
	}
	authType := v.Get("auth_type")
	switch authType {
	case "basic":
		pw := v.Get("password")
		if pw == "" && cur.AuthType() == "basic" {
			pw = "[redacted]" // left empty: keep the one it has
		}
		doc["auth"] = map[string]any{"type": "basic", "username": v.Get("username"), "password": pw}
		h.Auth = &hookAuth{Type: "basic", Username: v.Get("username")}
	case "token":
		tok := v.Get("token")
		if tok == "" && cur.AuthType() == "token" {
			tok = "[redacted]"
		}
		doc["auth"] = map[string]any{"type": "token", "token": tok}
		h.Auth = &hookAuth{Type: "token"}
	case "oauth2":
		sec := v.Get("client_secret")
		if sec == "" && cur.AuthType() == "oauth2" {
			sec = "[redacted]" // left empty: keep the one it has
		}
		a := &hookAuth{Type: "oauth2", TokenURL: strings.TrimSpace(v.Get("token_url")), ClientID: strings.TrimSpace(v.Get("client_id")),
			Scopes: splitList(v.Get("scopes")), Audience: strings.TrimSpace(v.Get("audience"))}
		m := map[string]any{"type": "oauth2", "token_url": a.TokenURL, "client_id": a.ClientID, "client_secret": sec}
		if len(a.Scopes) > 0 {
			m["scopes"] = a.Scopes
		}
		if a.Audience != "" {
			m["audience"] = a.Audience
		}
		doc["auth"] = m
		h.Auth = a
	default:
		h.Auth = nil
	}
	names, values := v["header_name"], v["header_value"]
	headers := map[string]any{}
	f.Headers = nil
	for i, n := range names {
		n = strings.TrimSpace(n)
		val := ""
		if i < len(values) {
			val = values[i]
		}
		if n == "" {
			continue
		}
		f.Headers = append(f.Headers, header{Name: n, Saved: cur.Headers[n] != ""})
		if val == "" && cur.Headers[n] != "" {
			val = "[redacted]" // left empty: keep the one it has
		}
		headers[n] = val
	}
	if len(headers) > 0 {
		doc["headers"] = headers
	}
	if v.Get("delivery_shown") != "" { // a form with the batching and plugin fields
		deliveryFromForm(v, doc, &f)
	}
	return doc, f
}

// deliveryFromForm reads batching and the plugin: set, they go in doc;
// unset, doc holds them as nil (none). A value the console can tell is
// wrong is marked beside its field.
func deliveryFromForm(v url.Values, doc map[string]any, f *formData) {
	h := &f.Hook
	h.Batch, h.Plugin = nil, nil
	doc["batch"], doc["plugin"] = nil, nil
	if v.Get("batch") == "on" {
		b := &hookBatch{MaxWait: strings.TrimSpace(v.Get("batch_max_wait"))}
		m := map[string]any{}
		if n := strings.TrimSpace(v.Get("batch_max_events")); n != "" {
			var err error
			if b.MaxEvents, err = strconv.Atoi(n); err != nil || b.MaxEvents < 1 {
				f.Errors["batch"] = "batch.max_events: must be a whole number of events, 1 or more"
			}
			m["max_events"] = b.MaxEvents
		}
		if b.MaxWait != "" {
			m["max_wait"] = b.MaxWait
		}
		h.Batch, doc["batch"] = b, m
	}
	if name := strings.TrimSpace(v.Get("plugin")); name != "" {
		p := &hookPlugin{Name: name}
		m := map[string]any{"name": name}
		if raw := strings.TrimSpace(v.Get("plugin_config")); raw != "" {
			p.Config = json.RawMessage(raw)
			var cfg any
			if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
				f.Errors["plugin"] = "plugin.config: not JSON (" + err.Error() + ")"
			} else if _, obj := cfg.(map[string]any); !obj {
				f.Errors["plugin"] = "plugin.config: must be a JSON object, such as {\"key\": \"value\"}"
			}
			m["config"] = cfg
		}
		h.Plugin, doc["plugin"] = p, m
	}
}

// pluginNames are the plugins a webhook may name (the first-party ones and
// the config's modules), with the webhook's own even if it went away.
func (c *Console) pluginNames(current string) []string {
	var names []string
	if c.o.Plugins != nil {
		names = c.o.Plugins()
	}
	if current != "" && !has(names, current) {
		names = append(names, current)
	}
	return names
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// formFields are the form's fields an API error can name.
var formFields = []string{"account", "name", "description", "url", "active", "events", "initiators", "lists", "auth", "headers", "batch", "plugin"}

// fieldErrors puts the API's errors beside the fields they concern.
func fieldErrors(f *formData, e *apiError) {
	put := func(path, msg string) {
		key := path
		if i := strings.IndexAny(key, ".["); i >= 0 {
			key = key[:i]
		}
		if has(formFields, key) {
			if f.Errors[key] == "" {
				f.Errors[key] = msg
			}
			return
		}
		if f.Problem == "" {
			f.Problem = strings.TrimPrefix(msg, path+": ")
			if path != "" {
				f.Problem = path + ": " + f.Problem
			}
		}
	}
	for _, d := range e.Details {
		put(d.Field, d.Message)
	}
	if len(e.Details) == 0 {
		put(e.Field, strings.TrimPrefix(e.Message, e.Field+": "))
	}
	if len(f.Errors) > 0 && f.Problem == "" {
		f.Problem = "The hub refused the webhook: see the fields marked below."
	}
}

func (c *Console) create(w http.ResponseWriter, r *http.Request, s *session) {
	doc, f := fromForm(r, false, hook{})
	for _, k := range []string{"auth", "batch", "plugin"} {
		if doc[k] == nil {
			delete(doc, k)
		}
	}
	if len(f.Errors) > 0 {
		f.Problem = "The webhook was not sent to the hub: see the fields marked below."
		c.showForm(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	res := c.call(r.Context(), r, s, http.MethodPost, "/v1/webhooks", doc)
	if res.status != http.StatusCreated {
		fieldErrors(&f, res.err())
		c.showForm(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	var made hook
	_ = json.Unmarshal(res.body, &made)
	c.log.Info().Str("webhook", made.ID).Str("account", made.Account).Msg("console: webhook created")
	c.render(w, r, s, http.StatusCreated, "secret", map[string]any{"Title": "Webhook created", "Hook": made, "Created": true})
}

func (c *Console) update(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	cur, base, res := c.get(r, s, id)
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	doc, f := fromForm(r, true, cur)
	if len(f.Errors) > 0 {
		f.Problem = "The webhook was not sent to the hub: see the fields marked below."
		c.showForm(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	// The webhook as shown, with the form's fields in place: what the form
	// does not show (plugin, retry, batch, ...) stays as it is, and masked
	// values sent back masked keep their value (the API's rule).
	delete(base, "secret")
	delete(base, "previous_secrets")
	for _, k := range []string{"name", "description", "initiators", "lists", "headers", "auth"} {
		if _, set := doc[k]; !set {
			delete(base, k)
		}
	}
	for k, v := range doc {
		if v == nil {
			delete(base, k) // batch or plugin turned off
			continue
		}
		base[k] = v
	}
	res = c.call(r.Context(), r, s, http.MethodPut, hookPath(id, ""), base)
	if res.status != http.StatusOK {
		fieldErrors(&f, res.err())
		c.showForm(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	c.setFlash(s, fmt.Sprintf("Saved %s.", f.Hook.Title()))
	http.Redirect(w, r, Path+"webhooks", http.StatusSeeOther)
}

func (c *Console) confirmDelete(w http.ResponseWriter, r *http.Request, s *session) {
	h, _, res := c.get(r, s, r.PathValue("id"))
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	c.render(w, r, s, http.StatusOK, "delete", map[string]any{"Title": "Delete " + h.Title(), "Hook": h})
}

func (c *Console) delete(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	h, _, res := c.get(r, s, id)
	if res.status == http.StatusOK {
		res = c.call(r.Context(), r, s, http.MethodDelete, hookPath(id, ""), nil)
	}
	if res.status != http.StatusNoContent {
		c.failed(w, r, s, res)
		return
	}
	c.log.Info().Str("webhook", id).Msg("console: webhook deleted")
	c.setFlash(s, fmt.Sprintf("Deleted %s.", h.Title()))
	http.Redirect(w, r, Path+"webhooks", http.StatusSeeOther)
}

// action runs a bodiless POST of the API on a webhook and goes back to the list.
func (c *Console) action(verb, done string) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		id := r.PathValue("id")
		res := c.call(r.Context(), r, s, http.MethodPost, hookPath(id, "/"+verb), nil)
		if res.status != http.StatusOK {
			c.failed(w, r, s, res)
			return
		}
		var h hook
		_ = json.Unmarshal(res.body, &h)
		c.setFlash(s, fmt.Sprintf("%s is %s.", h.Title(), done))
		http.Redirect(w, r, Path+"webhooks#"+url.PathEscape(id), http.StatusSeeOther)
	}
}

// rotate makes a new signing secret and shows it, this once.
func (c *Console) rotate(w http.ResponseWriter, r *http.Request, s *session) {
	res := c.call(r.Context(), r, s, http.MethodPost, hookPath(r.PathValue("id"), "/rotate-secret"), nil)
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	var h hook
	_ = json.Unmarshal(res.body, &h)
	c.log.Info().Str("webhook", h.ID).Msg("console: signing secret rotated")
	c.render(w, r, s, http.StatusOK, "secret", map[string]any{"Title": "New signing secret", "Hook": h})
}

// testResult is the API's answer to a test send.
type testResult struct {
	Status    int                 `json:"status"`
	LatencyMS float64             `json:"latency_ms"`
	Response  string              `json:"response"`
	Error     string              `json:"error"`
	Skipped   bool                `json:"skipped"`
	Headers   map[string][]string `json:"request_headers"`
	Delivered bool                `json:"delivered"`
}

func (c *Console) test(w http.ResponseWriter, r *http.Request, s *session) {
	if _, screen := r.PostForm["payload"]; screen {
		c.testSendScreen(w, r, s) // the Test screen's form (tools.go)
		return
	}
	id := r.PathValue("id")
	typ := r.PostFormValue("event_type")
	res := c.call(r.Context(), r, s, http.MethodPost, hookPath(id, "/test"), map[string]string{"event_type": typ})
	data := map[string]any{"Title": "Test send", "ID": id, "Type": typ}
	if e := res.err(); e != nil {
		data["Problem"] = e.Message
	} else {
		var tr testResult
		_ = json.Unmarshal(res.body, &tr)
		data["Result"] = tr
		names := make([]string, 0, len(tr.Headers))
		for k := range tr.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		data["HeaderNames"] = names
	}
	c.render(w, r, s, http.StatusOK, "test", data)
}
