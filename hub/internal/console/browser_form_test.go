package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestBrowserFormOAuth2AndPlugin: through the form, a webhook with OAuth2
// client credentials (against a token endpoint on loopback) and the slack
// plugin with its config; a test send reaches the receiver with the bearer
// token the endpoint issued and the plugin's body; the edit form shows the
// settings but never the client secret. At 1280 and 390 px.
func TestBrowserFormOAuth2AndPlugin(t *testing.T) {
	c := startChrome(t)
	h := startHub(t)
	var grants atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "client_credentials" || id != "hub-client" || secret != "client-secret-42" || r.PostForm.Get("scope") != "webhooks:write" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		n := grants.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("issued-%d", n), "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(tokens.Close)
	rc := hubtest.NewReceiver(t)

	// Signed in by a console sign-in link (what the demo prints): its page
	// presses its own button.
	link, err := h.ConsoleSignInLink(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.navigate("open the sign-in link", chromedp.Navigate(link)); st != 200 {
		t.Fatalf("the sign-in link: %d", st)
	}
	c.do("signed in by the link's page", chromedp.WaitVisible(chromedp.CSS("#usage-acme")))

	c.navigate("add", chromedp.Navigate(h.ConsoleURL()+"webhooks/new?account=acme"))
	c.do("fill the form",
		chromedp.SendKeys(chromedp.CSS("#name"), "CRM with OAuth2"),
		chromedp.SendKeys(chromedp.CSS("#url"), rc.URL+"/oauth-hook"),
		chromedp.Click(chromedp.CSS(`input[name=auth_type][value=oauth2]`)),
		chromedp.WaitVisible(chromedp.CSS("#token_url")),
		chromedp.SendKeys(chromedp.CSS("#token_url"), tokens.URL+"/oauth/token"),
		chromedp.SendKeys(chromedp.CSS("#client_id"), "hub-client"),
		chromedp.SendKeys(chromedp.CSS("#client_secret"), "client-secret-42"),
		chromedp.SendKeys(chromedp.CSS("#scopes"), "webhooks:write"),
		chromedp.Click(chromedp.CSS(`input[name=events][value="contact.created"]`)),
		chromedp.SetValue(chromedp.CSS("#plugin"), "slack"),
		chromedp.SendKeys(chromedp.CSS("#plugin_config"), `{"username": "hookhub-bot"}`),
	)
	if got := c.eval("basic fields hidden", `String(document.querySelector("#username").closest("[data-auth-for]").hidden)`); got != "true" {
		t.Errorf("with OAuth2 chosen, the basic auth fields show")
	}
	c.checkPage("form with OAuth2 and a plugin")
	c.shot("console-form-oauth2")
	if st := c.navigate("save", chromedp.Click(chromedp.CSS("#save"))); st != 201 {
		t.Fatalf("saving answered %d: %s", st, c.text("main"))
	}
	hooks := h.Snapshot().Account("acme")
	if len(hooks) != 1 || hooks[0].Auth == nil || hooks[0].Auth.Type != "oauth2" || hooks[0].Plugin == nil || hooks[0].Plugin.Name != "slack" {
		t.Fatalf("stored: %+v", hooks)
	}
	id := hooks[0].ID

	// A test send: the receiver gets the endpoint's token and the plugin's body.
	c.navigate("list", chromedp.Navigate(h.ConsoleURL()+"webhooks"))
	row := fmt.Sprintf(`tr[data-webhook=%q]`, id)
	c.do("send a test",
		chromedp.SetValue(chromedp.CSS("#type-"+id), "contact.created"),
		chromedp.Click(chromedp.CSS(row+" form.test button")),
		chromedp.WaitVisible(chromedp.CSS("#test-"+id+" .status")),
	)
	if got := c.text("#test-" + id + " .status"); got != "200" {
		t.Errorf("the test result shows status %q, want 200", got)
	}
	reqs := rc.WaitFor(t, 1, 10*time.Second)
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer issued-1" {
		t.Errorf("the receiver's Authorization: %q, want the token endpoint's Bearer issued-1", got)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body["username"] != "hookhub-bot" || body["text"] == nil {
		t.Errorf("the receiver's body is not the slack plugin's with its config: %s", reqs[0].Body)
	}
	if grants.Load() != 1 {
		t.Errorf("%d token grants, want 1", grants.Load())
	}
	if strings.Contains(c.eval("html", `document.documentElement.outerHTML`), "client-secret-42") {
		t.Error("the list's HTML holds the client secret")
	}

	// The edit form: settings shown, the client secret not.
	c.navigate("edit", chromedp.Navigate(h.ConsoleURL()+"webhooks/"+url.PathEscape(id)+"/edit"))
	if got := c.eval("edit values", `[document.querySelector("#token_url").value, document.querySelector("#client_id").value,
		document.querySelector("#client_secret").value, document.querySelector("#plugin").value].join("|")`); got != tokens.URL+"/oauth/token|hub-client||slack" {
		t.Errorf("the edit form's token URL|client id|client secret|plugin: %q", got)
	}
	if strings.Contains(c.eval("html", `document.documentElement.outerHTML`), "client-secret-42") {
		t.Error("the edit form's HTML holds the client secret")
	}
	c.checkPage("edit with OAuth2")
	c.shot("console-edit-oauth2")
	c.do("phone", chromedp.EmulateViewport(390, 844))
	c.navigate("edit", chromedp.Navigate(h.ConsoleURL()+"webhooks/"+url.PathEscape(id)+"/edit"))
	c.checkPage("edit with OAuth2 at 390 px")
	c.shot("console-edit-oauth2-390")
	c.do("laptop", chromedp.EmulateViewport(1280, 900))
}
