package admin

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/signature"
)

// WebhookView is a webhook as the API shows it: secrets masked, except the
// signing secret once, in the answer to its creation.
type WebhookView struct {
	config.Webhook
	Secret         string     `json:"secret"`
	ReadOnly       bool       `json:"read_only"`
	Disabled       bool       `json:"disabled,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	LastSuccess    *time.Time `json:"last_success,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	// Warnings are what is legal but surely not meant (lists that can
	// never match its events).
	Warnings []string `json:"warnings,omitempty"`
}

func (s *Server) view(w *webhooks.Webhook) WebhookView {
	v := WebhookView{Webhook: w.Webhook, Secret: maskSecret(w.Secret.Reveal()), ReadOnly: w.ReadOnly, Warnings: s.d.Config.WebhookWarnings(w.Webhook, s.d.Types.APIDeclared(w.Account)...)}
	v.URL = config.MaskURL(w.URL)
	if len(w.Headers) > 0 {
		v.Headers = make(map[string]string, len(w.Headers))
		for k, val := range w.Headers {
			if !config.PlainHeader(k) {
				val = config.Mask
			}
			v.Headers[k] = val
		}
	}
	if p := w.Plugin; p != nil {
		v.Plugin = &config.PluginRef{Name: p.Name, Config: config.MaskFields(p.Config, s.pluginSecrets(p.Name))}
	}
	if tc := w.TLSClient; tc != nil {
		c := *tc
		c.CertFile, c.KeyFile = "", "" // the host's paths are not the API's business
		v.TLSClient = &c
	}
	if s.d.Health != nil {
		st := s.d.Health.Get(w.ID)
		v.Disabled, v.DisabledReason, v.LastSuccess, v.FailingSince = st.Disabled, st.Reason, s.d.Health.LastSuccess(w.ID), st.FailingSince
		if st.Disabled {
			v.DisabledAt = st.DisabledAt
		}
	}
	return v
}

// maskSecret shows a secret's prefix and last four characters.
func maskSecret(s string) string {
	if len(s) < 12 {
		return "[redacted]"
	}
	return s[:6] + "..." + s[len(s)-4:]
}

func (s *Server) webhookRoutes() {
	s.handle("GET /v1/webhooks", s.listWebhooks, false)
	s.handle("POST /v1/webhooks", s.createWebhook, false)
	s.handle("GET /v1/webhooks/{id}", s.getWebhook, false)
	s.handle("PUT /v1/webhooks/{id}", s.updateWebhook, false)
	s.handle("PATCH /v1/webhooks/{id}", s.patchWebhook, false)
	s.handle("DELETE /v1/webhooks/{id}", s.deleteWebhook, false)
	s.handle("POST /v1/webhooks/{id}/activate", s.setActive(true), false)
	s.handle("POST /v1/webhooks/{id}/deactivate", s.setActive(false), false)
	s.handle("POST /v1/webhooks/{id}/enable", s.enableWebhook, false)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	snap := s.d.Registry.Snapshot()
	var list []*webhooks.Webhook
	acct := r.URL.Query().Get("account")
	if sc := scope(r); sc != "" {
		if acct != "" && acct != sc {
			return &Error{Status: http.StatusForbidden, Code: "forbidden", Field: "account", Message: "this token sees only account " + sc}
		}
		acct = sc
	}
	if acct != "" {
		list = snap.Account(acct)
	} else {
		list = snap.All()
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	out := make([]WebhookView, 0, len(list))
	for _, wh := range list {
		out = append(out, s.view(wh))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.webhook(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(wh))
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var named struct {
		Account *string         `json:"account"`
		ID      json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(body, &named)
	if named.Account != nil && !allowed(r, *named.Account) {
		// Before validation, whose answers could tell of the other account.
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Field: "account", Message: "this token sees only account " + scope(r)}
	}
	if named.ID != nil && scope(r) != "" {
		// Ids are one namespace for all accounts: letting an account's
		// token choose one would let it probe the ids of the others.
		return badRequest("validation_failed", "id", "id: an account's token cannot choose the id; leave it out and the hub makes one")
	}
	wh, err := s.parseWebhook(body, "", scope(r))
	if err != nil {
		return err
	}
	if !allowed(r, wh.Account) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Field: "account", Message: "this token sees only account " + scope(r)}
	}
	if s.d.Registry.Get(wh.ID) != nil {
		return idTaken(r, wh.ID)
	}
	if n, lim := len(s.d.Registry.Snapshot().Account(wh.Account)), s.d.Config.WebhookLimit(wh.Account); n >= lim {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "webhook_limit", Field: "account",
			Message: fmt.Sprintf("account %q has %d webhooks, its limit", wh.Account, lim)}
	}
	if err := s.d.Store.Create(r.Context(), wh); err != nil {
		if errors.Is(err, webhooks.ErrExists) {
			return idTaken(r, wh.ID)
		}
		return storeError(wh.ID, err)
	}
	// Hubs may create at the same moment: count what the bucket holds now,
	// and take this one back if the account went over (never over, at
	// worst one refusal too many).
	if n, err := s.d.Store.Count(r.Context(), wh.Account); err == nil && n > s.d.Config.WebhookLimit(wh.Account) {
		if err := s.d.Store.Delete(r.Context(), wh.ID); err != nil {
			s.log.Warn().Err(err).Str("webhook", wh.ID).Str("account", wh.Account).Msg("a webhook over its account's limit could not be taken back; delete it")
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: "webhook_limit", Field: "account",
			Message: fmt.Sprintf("account %q has reached its limit of %d webhooks", wh.Account, s.d.Config.WebhookLimit(wh.Account))}
	}
	made, err := s.written(wh.ID)
	if err != nil {
		return err
	}
	v := s.view(made)
	v.Secret = wh.Secret.Reveal() // shown once, now
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// idTaken answers the creation of an id in use. An account's token never
// chooses ids, so it meets this only if a generated id collides: the answer
// names nothing of the webhook that holds it.
func idTaken(r *http.Request, id string) *Error {
	if scope(r) == "" {
		return &Error{Status: http.StatusConflict, Code: "exists", Field: "id", Message: fmt.Sprintf("a webhook %q exists", id)}
	}
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: "the webhook could not be created: try again"}
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cur, err := s.mutable(r, id)
	if err != nil {
		return err
	}
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return badRequest("invalid_json", "", "the body must be a JSON object")
	}
	return s.replaceWebhook(w, r, cur, doc)
}

// patchWebhook changes some fields of a webhook: the body is a JSON merge
// patch (RFC 7396) over the webhook as it is (null removes a field); the
// result is validated as a whole, as by PUT.
func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cur, err := s.mutable(r, id)
	if err != nil {
		return err
	}
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	var patch map[string]any
	if err := json.Unmarshal(body, &patch); err != nil || patch == nil {
		return badRequest("invalid_json", "", "the body must be a JSON object (a JSON merge patch)")
	}
	// The base is the webhook as the API shows it, masked values and all:
	// replaceWebhook keeps those, and knows which it kept.
	base, _ := json.Marshal(s.view(cur))
	var doc map[string]any
	_ = json.Unmarshal(base, &doc)
	delete(doc, "secret")
	delete(doc, "previous_secrets")
	if v, ok := patch["secret"]; ok && v == nil {
		delete(patch, "secret") // the signing secret cannot be removed, only replaced
	}
	return s.replaceWebhook(w, r, cur, mergePatch(doc, patch).(map[string]any))
}

// mergePatch applies an RFC 7396 JSON merge patch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

// viewOnly are the fields the API shows that are not the webhook's own; a
// webhook read and sent back may carry them.
var viewOnly = []string{"read_only", "disabled", "disabled_reason", "disabled_at", "last_success", "failing_since", "warnings"}

// replaceWebhook validates doc as the new state of cur and stores it. What
// the API shows masked and is sent back masked keeps its value: the signing
// secret ("whsec_...abcd" or absent: unchanged, with its rotation's previous
// secrets), auth password, token and client secret, the client certificate's
// key, header values, URL query values and the plugin config's secret fields
// ("[redacted]").
func (s *Server) replaceWebhook(w http.ResponseWriter, r *http.Request, cur *webhooks.Webhook, doc map[string]any) error {
	id := cur.ID
	for _, k := range viewOnly {
		delete(doc, k)
	}
	if sec, ok := doc["secret"].(string); ok && (sec == "[redacted]" || strings.Contains(sec, "...")) {
		delete(doc, "secret")
	}
	newSecret := doc["secret"] != nil
	if !newSecret {
		delete(doc, "previous_secrets")
	}
	var kept []string // credentials sent back masked, so kept as they are
	if a, ok := doc["auth"].(map[string]any); ok && cur.Auth != nil {
		for _, c := range []struct {
			field string
			value config.Secret
		}{{"password", cur.Auth.Password}, {"token", cur.Auth.Token}, {"client_secret", cur.Auth.ClientSecret}} {
			if a[c.field] == "[redacted]" {
				a[c.field] = c.value.Reveal()
				if c.value != "" {
					kept = append(kept, "auth."+c.field)
				}
			}
		}
	}
	if tc, ok := doc["tls_client"].(map[string]any); ok && cur.TLSClient != nil && tc["key_pem"] == "[redacted]" {
		tc["key_pem"] = cur.TLSClient.KeyPEM.Reveal()
		if cur.TLSClient.KeyPEM != "" {
			kept = append(kept, "tls_client.key_pem")
		}
	}
	if u, ok := doc["url"].(string); ok {
		if doc["url"] = config.RestoreURL(u, cur.URL); doc["url"] != u {
			kept = append(kept, "url") // its masked query values
		}
	}
	if p, ok := doc["plugin"].(map[string]any); ok && cur.Plugin != nil && p["name"] == cur.Plugin.Name && p["config"] != nil {
		sent, _ := json.Marshal(p["config"])
		p["config"] = config.RestoreFields(p["config"], cur.Plugin.Config, s.pluginSecrets(cur.Plugin.Name))
		if restored, _ := json.Marshal(p["config"]); !bytes.Equal(sent, restored) {
			kept = append(kept, "plugin.config") // its masked secret fields
		}
	}
	if h, ok := doc["headers"].(map[string]any); ok {
		for k, v := range h {
			if v == "[redacted]" && cur.Headers[k] != "" {
				h[k] = cur.Headers[k]
				kept = append(kept, "headers."+k)
			}
		}
	}
	body, _ := json.Marshal(doc)
	wh, err := s.parseWebhook(body, id, cur.Account)
	if err != nil {
		return err
	}
	if wh.Account != cur.Account {
		return badRequest("account_change", "account", "a webhook cannot move to another account")
	}
	if err := credentialsMoved(cur.Webhook, wh, kept); err != nil {
		return err
	}
	if !newSecret {
		wh.Secret, wh.PreviousSecrets = cur.Secret, cur.PreviousSecrets // unchanged unless a new one is given
	}
	if err := s.d.Store.Update(r.Context(), wh); err != nil {
		return storeError(id, err)
	}
	now, err := s.written(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(now))
	return nil
}

// credentialsMoved refuses to carry credentials kept from cur (sent back
// masked) to another receiver: whoever may write a webhook could otherwise
// point it at a server of their own and read them. The url is where the
// password, token, headers and client certificate go; the client secret goes
// to token_url, and the token it buys to url. A change of a url's path counts
// as much as one of its host: on a shared receiver host (a request bin, an
// automation service) another path is another owner.
func credentialsMoved(cur, next config.Webhook, kept []string) *Error {
	sort.Strings(kept)
	urlMoved := endpoint(cur.URL) != endpoint(next.URL)
	tokenURLMoved := cur.Auth != nil && next.Auth != nil && endpoint(cur.Auth.TokenURL) != endpoint(next.Auth.TokenURL)
	for _, f := range kept {
		if urlMoved || (f == "auth.client_secret" && tokenURLMoved) {
			where := "url"
			if !urlMoved {
				where = "auth.token_url"
			}
			return &Error{Status: http.StatusUnprocessableEntity, Code: "credentials_required", Field: f,
				Message: fmt.Sprintf("%s: %s points somewhere else, so the credential must be sent again (it is not carried over to a new receiver)", f, where)}
		}
	}
	return nil
}

// endpoint is a URL's scheme, host, port and path, with the case and
// default port that do not change where it points made uniform ("" when it
// does not parse).
func endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port + u.EscapedPath()
}

// pluginSecrets are the fields of a plugin's config that its schema marks
// secret (writeOnly or x-secret).
func (s *Server) pluginSecrets(name string) []config.FieldPath {
	if s.d.PluginSecrets == nil {
		return nil
	}
	return s.d.PluginSecrets(name)
}

// mutable finds a run-time webhook the caller may change.
func (s *Server) mutable(r *http.Request, id string) (*webhooks.Webhook, error) {
	cur, err := s.webhook(r, id)
	if err != nil {
		return nil, err
	}
	if cur.ReadOnly {
		return nil, readOnly(id)
	}
	return cur, nil
}

func readOnly(id string) *Error {
	return &Error{Status: http.StatusConflict, Code: "read_only", Message: fmt.Sprintf("webhook %q comes from the config file; change it there", id)}
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.webhook(r, id); err != nil {
		return err
	}
	if err := s.d.Store.Delete(r.Context(), id); err != nil {
		return storeError(id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// storeError turns the store's errors into the API's; others stay as they
// are (503: the hub could not do it now).
func storeError(id string, err error) error {
	switch {
	case errors.Is(err, webhooks.ErrNotFound):
		return notFound("webhook", id)
	case errors.Is(err, webhooks.ErrReadOnly):
		return readOnly(id)
	case errors.Is(err, webhooks.ErrExists):
		return &Error{Status: http.StatusConflict, Code: "exists", Field: "id", Message: fmt.Sprintf("a webhook %q exists", id)}
	case errors.Is(err, webhooks.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict",
			Message: fmt.Sprintf("webhook %q changed meanwhile (on another hub process, or it was deleted): read it again and retry", id)}
	}
	return err
}

func (s *Server) setActive(active bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		cur, err := s.mutable(r, id)
		if err != nil {
			return err
		}
		wh := cur.Webhook
		wh.Active = &active
		if err := s.d.Store.Update(r.Context(), wh); err != nil {
			return storeError(id, err)
		}
		now, err := s.written(id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.view(now))
		return nil
	}
}

// enableWebhook clears a webhook the hub disabled (410 Gone, failing too
// long) and offers to recover the window it was down: its answer says how
// many dead letters failed since the webhook began failing, and the call that
// redrives them; with ?recover=true it redrives them at once.
func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cur, err := s.webhook(r, id)
	if err != nil {
		return err
	}
	recoverNow := false
	if v := r.URL.Query().Get("recover"); v != "" {
		if recoverNow, err = strconv.ParseBool(v); err != nil {
			return badRequest("bad_parameter", "recover", "recover must be true or false")
		}
	}
	st := s.d.Health.Get(id)
	since := st.FailingSince
	if since == nil {
		since = st.DisabledAt
	}
	if err := s.d.Health.Enable(r.Context(), id); err != nil {
		return err
	}
	var out map[string]any // the webhook's view, and the stranded window
	now, err := s.written(id)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(s.view(now))
	_ = json.Unmarshal(b, &out)
	if since != nil {
		stranded, err := s.deadBetween(r, cur.Account, id, *since, time.Time{})
		if err != nil {
			return err
		}
		window := map[string]any{"since": since.UTC().Format(time.RFC3339), "dead_letters": len(stranded)}
		if recoverNow {
			n, err := s.redriveLetters(r, stranded)
			if err != nil {
				return err
			}
			window["redriven"] = n
		} else if len(stranded) > 0 {
			window["recover"] = "POST /v1/webhooks/" + id + "/dead-letters/redrive?since=" + since.UTC().Format(time.RFC3339)
		}
		out["stranded"] = window
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseWebhook validates a webhook body with the config's schema and rules;
// id, when set, is the path's id; account, when set, is the account it
// belongs to if the body names none. It fills id and secret when absent.
func (s *Server) parseWebhook(body []byte, id, account string) (config.Webhook, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return config.Webhook{}, badRequest("invalid_json", "", "the body must be a JSON object")
	}
	if tc, ok := m["tls_client"].(map[string]any); ok {
		// File paths are a config-file feature: through the API a caller
		// could make the hub present any key pair it can read. Refused
		// before anything looks at them, so the answer says nothing of the
		// host's files.
		for _, k := range []string{"cert_file", "key_file"} {
			if _, ok := tc[k]; ok {
				return config.Webhook{}, fieldError("tls_client."+k, "file paths are read from the config file only; through the API give the certificate and its key as PEM text in tls_client.cert_pem and tls_client.key_pem")
			}
		}
	}
	if _, ok := m["account"]; !ok && account != "" {
		m["account"] = account
	}
	if id != "" {
		m["id"] = id
	} else if _, ok := m["id"]; !ok {
		var b [8]byte
		_, _ = rand.Read(b[:])
		m["id"] = "wh_" + hex.EncodeToString(b[:])
	}
	generated := ""
	if _, ok := m["secret"]; !ok {
		sec, err := signature.NewSecret()
		if err != nil {
			return config.Webhook{}, err
		}
		generated = sec.Reveal()
		m["secret"] = generated
	}
	norm, _ := json.Marshal(m)
	set, err := schemacheck.Default()
	if err != nil {
		return config.Webhook{}, err
	}
	doc, _ := schemacheck.Decode(norm)
	issues, err := set.Validate(config.SchemaPath+"#/$defs/webhook", doc)
	if err != nil {
		return config.Webhook{}, err
	}
	var details []FieldIssue
	for _, is := range issues {
		details = append(details, FieldIssue{Field: is.Path, Message: is.Msg})
	}
	var wh config.Webhook
	if len(details) == 0 {
		dec := json.NewDecoder(bytes.NewReader(norm))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&wh); err != nil {
			return wh, badRequest("invalid_webhook", "", err.Error())
		}
		for _, e := range s.d.Config.CheckWebhook("", "", wh, s.d.Types.APIDeclared(wh.Account)...) {
			var fe *config.FieldError
			if errors.As(e, &fe) {
				details = append(details, FieldIssue{Field: fe.Path, Message: fe.Msg})
			}
		}
		if !event.ValidAccount(wh.Account) {
			details = append(details, FieldIssue{Field: "account", Message: "must be letters, digits, '_' or '-'"})
		}
		if wh.Plugin != nil && s.d.CheckPlugin != nil {
			if err := s.d.CheckPlugin(wh.Plugin.Name, wh.Plugin.Config); err != nil {
				details = append(details, FieldIssue{Field: "plugin", Message: err.Error()})
			}
		}
	}
	if len(details) > 0 {
		e := badRequest("validation_failed", details[0].Field, details[0].Field+": "+details[0].Message)
		if details[0].Field == "" {
			e.Message = details[0].Message
		}
		e.Details = details
		return wh, e
	}
	return wh, nil
}

// fieldError is a 400 validation_failed for one field.
func fieldError(field, msg string) *Error {
	e := badRequest("validation_failed", field, field+": "+msg)
	e.Details = []FieldIssue{{Field: field, Message: msg}}
	return e
}
