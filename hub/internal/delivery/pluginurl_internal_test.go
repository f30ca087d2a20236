package delivery

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// TestPluginURL: a plugin's URL override (ABI 1.1) may change the path and
// query of the webhook's URL, and nothing else: another host, scheme, port,
// user info or a scheme-relative URL fails the delivery for good, and the
// reason names the host tried but never the override's query.
func TestPluginURL(t *testing.T) {
	ep, _ := url.Parse("https://crm.example/hooks/in?key=abc")
	w := &webhooks.Webhook{Webhook: config.Webhook{ID: "wh", Plugin: &config.PluginRef{Name: "js"}}, Endpoint: ep}
	for override, want := range map[string]string{
		"":                          "https://crm.example/hooks/in?key=abc",
		"/v2/contacts":              "https://crm.example/v2/contacts",
		"/v2/contacts?id=7&key=abc": "https://crm.example/v2/contacts?id=7&key=abc",
		"https://crm.example/v2/x":  "https://crm.example/v2/x",
		"HTTPS://CRM.example/v2/x":  "https://crm.example/v2/x",
		"/a%2Fb":                    "https://crm.example/a%2Fb",
	} {
		got, err := pluginURL(w, override)
		if err != nil || got.String() != want {
			t.Errorf("override %q: %v, %v; want %s", override, got, err, want)
		}
	}
	if ep.String() != "https://crm.example/hooks/in?key=abc" {
		t.Errorf("the webhook's own URL changed: %s", ep)
	}
	for override, wantWhy := range map[string]string{
		"https://evil.example/hooks/in?token=s3cret": `to the host "evil.example", not the webhook's "crm.example"`,
		"//evil.example/x?token=s3cret":              `to the host "evil.example" (a scheme-relative URL)`,
		"http://crm.example/x":                       `to the scheme "http"`,
		"https://crm.example:8443/x":                 `to the host "crm.example:8443"`,
		"https://crm.example@evil.example/x":         `to the host "evil.example"`,
		"https://u:p@crm.example/x":                  "with user info",
		"v2/contacts":                                "to a relative reference",
		"mailto:a@crm.example":                       "to a relative reference",
		"/x#frag":                                    "with a fragment",
		"https:///x":                                 "with a scheme and no host",
		"http://[::1":                                "to something that is not a URL",
	} {
		got, err := pluginURL(w, override)
		if err == nil {
			t.Errorf("override %q: sent to %s, want it refused", override, got)
			continue
		}
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), wantWhy) || !strings.Contains(err.Error(), `plugin "js"`) {
			t.Errorf("override %q: %v, want a permanent error naming the plugin and %q", override, err, wantWhy)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("override %q: the error shows the query: %v", override, err)
		}
	}
}
