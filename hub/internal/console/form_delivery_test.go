package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// formValues is a filled-in create form of acme's webhook (events
// contact.created) with the fields given on top.
func formValues(csrf string, extra url.Values) url.Values {
	v := url.Values{"csrf": {csrf}, "account": {"acme"}, "name": {"crm"}, "url": {"http://127.0.0.1:9/crm"},
		"events": {"contact.created"}, "active": {"on"}, "delivery_shown": {"1"}}
	for k, x := range extra {
		v[k] = x
	}
	return v
}

// TestConsoleFormOAuth2BatchAndPlugin: the form sets OAuth2 client
// credentials, batching and a plugin with its config; the client secret is
// never drawn back and is kept when left empty; turning batching and the
// plugin off removes them; wrong values are shown beside their field.
func TestConsoleFormOAuth2BatchAndPlugin(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	b.signIn(opToken)
	_, page := b.do("GET", "/console/webhooks/new?account=acme", nil)
	for _, want := range []string{`value="oauth2"`, `id="token_url"`, `id="client_secret"`, `id="batch"`, `<option value="slack">slack</option>`, `id="plugin_config"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the new form lacks %s\n%s", want, page)
		}
	}
	csrf := csrfOf(t, page)
	resp, body := b.do("POST", "/console/webhooks", formValues(csrf, url.Values{"auth_type": {"oauth2"},
		"token_url": {"http://127.0.0.1:9/oauth/token"}, "client_id": {"hub-client"}, "client_secret": {"cs-secret-0123"},
		"scopes": {"webhooks:write, contacts:read"}, "audience": {"https://crm.example"},
		"batch": {"on"}, "batch_max_events": {"25"}, "batch_max_wait": {"2s"},
		"plugin": {"slack"}, "plugin_config": {`{"username": "hookhub-bot"}`}}))
	if resp.StatusCode != http.StatusCreated || strings.Contains(body, "cs-secret-0123") {
		t.Fatalf("create: %d (want 201), client secret in the page: %v\n%s", resp.StatusCode, strings.Contains(body, "cs-secret-0123"), body)
	}
	all := h.Snapshot().All()
	if len(all) != 1 {
		t.Fatalf("%d webhooks after the create, want 1", len(all))
	}
	wh := all[0]
	if a := wh.Auth; a == nil || a.Type != "oauth2" || a.TokenURL != "http://127.0.0.1:9/oauth/token" || a.ClientID != "hub-client" ||
		a.ClientSecret.Reveal() != "cs-secret-0123" || fmt.Sprint(a.Scopes) != "[webhooks:write contacts:read]" || a.Audience != "https://crm.example" {
		t.Errorf("stored auth: %+v", wh.Auth)
	}
	if wh.Batch == nil || wh.Batch.MaxEvents != 25 || wh.Batch.MaxWait.D() != 2*time.Second {
		t.Errorf("stored batch: %+v", wh.Batch)
	}
	if wh.Plugin == nil || wh.Plugin.Name != "slack" || !strings.Contains(string(wh.Plugin.Config), `"hookhub-bot"`) {
		t.Errorf("stored plugin: %+v", wh.Plugin)
	}

	// The edit form shows it all but the client secret.
	_, page = b.do("GET", "/console/webhooks/"+wh.ID+"/edit", nil)
	if strings.Contains(page, "cs-secret-0123") {
		t.Fatal("the edit form holds the client secret")
	}
	for _, want := range []string{`value="oauth2" checked`, `value="http://127.0.0.1:9/oauth/token"`, `value="hub-client"`, `value="webhooks:write contacts:read"`,
		`id="batch" name="batch" type="checkbox" checked`, `value="25"`, `value="2s"`, `<option value="slack" selected>`, `"username": "hookhub-bot"`,
		"Left empty, the current client secret is kept."} {
		if !strings.Contains(page, want) {
			t.Errorf("the edit form lacks %s", want)
		}
	}
	// Saved with the client secret left empty: kept.
	edit := func(extra url.Values) (*http.Response, string) {
		_, page := b.do("GET", "/console/webhooks/"+wh.ID+"/edit", nil)
		v := formValues(csrfOf(t, page), url.Values{"auth_type": {"oauth2"}, "token_url": {"http://127.0.0.1:9/oauth/token"},
			"client_id": {"hub-client"}, "scopes": {"webhooks:write"}})
		delete(v, "account")
		for k, x := range extra {
			v[k] = x
		}
		return b.do("POST", "/console/webhooks/"+wh.ID, v)
	}
	if resp, body := edit(url.Values{"batch": {"on"}, "batch_max_events": {"50"}, "plugin": {"slack"}, "plugin_config": {`{"username":"other"}`}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	got := h.Snapshot().Get(wh.ID)
	if got.Auth.ClientSecret.Reveal() != "cs-secret-0123" || fmt.Sprint(got.Auth.Scopes) != "[webhooks:write]" || got.Batch == nil || got.Batch.MaxEvents != 50 ||
		!strings.Contains(string(got.Plugin.Config), `"other"`) {
		t.Errorf("after the edit: client secret kept %v, scopes %v, batch %+v, plugin %s", got.Auth.ClientSecret.Reveal() == "cs-secret-0123", got.Auth.Scopes, got.Batch, got.Plugin.Config)
	}

	// Wrong values: beside their fields, nothing stored.
	for _, c := range []struct {
		name  string
		extra url.Values
		field string
	}{
		{"config not JSON", url.Values{"plugin": {"slack"}, "plugin_config": {`{"username":`}}, "plugin-error"},
		{"config the plugin refuses", url.Values{"plugin": {"slack"}, "plugin_config": {`{"colour":"red"}`}}, "plugin-error"},
		{"unknown plugin", url.Values{"plugin": {"no-such-plugin"}}, "plugin-error"},
		{"batch size", url.Values{"batch": {"on"}, "batch_max_events": {"many"}}, "batch-error"},
		{"batch wait", url.Values{"batch": {"on"}, "batch_max_wait": {"soon"}}, "batch-error"},
		{"no client id", url.Values{"client_id": {""}, "client_secret": {"typed-secret-77"}}, "auth-error"},
	} {
		resp, body := edit(c.extra)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+c.field+`"`) ||
			strings.Contains(body, "cs-secret-0123") || strings.Contains(body, "typed-secret-77") {
			t.Errorf("%s: %d, want 422 with #%s\n%s", c.name, resp.StatusCode, c.field, body)
		}
	}
	if got := h.Snapshot().Get(wh.ID); got.Batch == nil || got.Batch.MaxEvents != 50 || got.Plugin == nil {
		t.Errorf("a refused form changed the webhook: batch %+v plugin %+v", got.Batch, got.Plugin)
	}

	// Batching and the plugin off: gone; auth none: gone.
	if resp, body := edit(url.Values{"auth_type": {"none"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save without batch and plugin: %d\n%s", resp.StatusCode, body)
	}
	if got := h.Snapshot().Get(wh.ID); got.Batch != nil || got.Plugin != nil || (got.Auth != nil && got.Auth.Type != "none" && got.Auth.Type != "") {
		t.Errorf("after turning them off: batch %+v plugin %+v auth %+v", got.Batch, got.Plugin, got.Auth)
	}
}
