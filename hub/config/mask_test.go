package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
)

// TestMaskURL: every query value and a password are masked; what is shown,
// sent back, gives the URL again, and a new value sent replaces the old.
func TestMaskURL(t *testing.T) {
	for _, c := range []struct{ url, shown string }{
		{"https://x.example.com/a?token=s3cr3t-value&v=1&flag", "https://x.example.com/a?token=[redacted]&v=[redacted]&flag"},
		{"https://x.example.com/a?k=one&k=two#frag", "https://x.example.com/a?k=[redacted]&k=[redacted]#frag"},
		{"https://user:pa55word@x.example.com/a", "https://user:%5Bredacted%5D@x.example.com/a"},
		{"https://x.example.com/a", "https://x.example.com/a"},
	} {
		if got := config.MaskURL(c.url); got != c.shown {
			t.Errorf("MaskURL(%q) = %q, want %q", c.url, got, c.shown)
		}
		if got := config.RestoreURL(config.MaskURL(c.url), c.url); got != c.url {
			t.Errorf("RestoreURL(MaskURL(%q)) = %q", c.url, got)
		}
	}
	cur := "https://x.example.com/a?k=one&k=two&t=old-token"
	if got := config.RestoreURL("https://x.example.com/a?k=[redacted]&k=new&t=%5Bredacted%5D", cur); got != "https://x.example.com/a?k=one&k=new&t=old-token" {
		t.Errorf("RestoreURL of a partly new URL = %q", got)
	}
	if got := config.RestoreURL("https://other.example.com/b?x=[redacted]", cur); got != "https://other.example.com/b?x=[redacted]" {
		t.Errorf("a masked value of a parameter cur lacks must stay as sent: %q", got)
	}
}

// TestScrub: a secret goes from text as written, URL-escaped and
// JSON-escaped; a secret holding another goes whole; short values stay.
func TestScrub(t *testing.T) {
	secrets := []string{"abc/def+ghi=", "tok-123456", "tok-123456-longer", "short", ""}
	in := `a abc/def+ghi= b abc%2Fdef%2Bghi%3D c tok-123456-longer d tok-123456 e short "q\"uote-secret"`
	got := config.Scrub(in, append(secrets, `q"uote-secret`))
	want := `a [redacted] b [redacted] c [redacted] d [redacted] e short "[redacted]"`
	if got != want {
		t.Errorf("Scrub:\n got %s\nwant %s", got, want)
	}
}

// TestSecretValuesAndFields: a webhook's secret values include its header
// values (but plain ones), query values and the plugin config's marked
// fields; MaskFields and RestoreFields mask and keep those fields.
func TestSecretValuesAndFields(t *testing.T) {
	w := config.Webhook{URL: "https://x.example.com/?token=qvalue-123", Secret: secret,
		Headers: map[string]string{"X-Key": "header-secret", "Content-Type": "text/plain"},
		Auth:    &config.Auth{Type: "basic", Username: "u", Password: "pw-123456"},
		Plugin:  &config.PluginRef{Name: "p", Config: json.RawMessage(`{"api_key":"plugin-key","list":[{"tok":"t1-secret"},{"tok":"t2-secret"}],"label":"plain-label"}`)}}
	paths := []config.FieldPath{{"api_key"}, {"list", "*", "tok"}}
	vals := strings.Join(w.SecretValues(paths), " ")
	for _, want := range []string{secret, "header-secret", "qvalue-123", "pw-123456", "dTpwdy0xMjM0NTY=", "plugin-key", "t1-secret", "t2-secret"} {
		if !strings.Contains(vals, want) {
			t.Errorf("SecretValues lacks %q", want)
		}
	}
	for _, not := range []string{"text/plain", "plain-label"} {
		if strings.Contains(vals, not) {
			t.Errorf("SecretValues holds %q, which is not secret", not)
		}
	}
	shown := config.MaskFields(w.Plugin.Config, paths)
	if string(shown) != `{"api_key":"[redacted]","label":"plain-label","list":[{"tok":"[redacted]"},{"tok":"[redacted]"}]}` {
		t.Errorf("MaskFields = %s", shown)
	}
	var sent any
	_ = json.Unmarshal(shown, &sent)
	sent.(map[string]any)["label"] = "new-label"
	b, _ := json.Marshal(config.RestoreFields(sent, w.Plugin.Config, paths))
	if string(b) != `{"api_key":"plugin-key","label":"new-label","list":[{"tok":"t1-secret"},{"tok":"t2-secret"}]}` {
		t.Errorf("RestoreFields = %s", b)
	}
}
