package delivery

import (
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/hookhub/hookhub/hub/config"
)

// TestTokenCacheForgetsOldCredentials: the cache keeps one entry per set of
// credentials; when new credentials come, those whose token has expired
// (a rotated secret, a deleted webhook) are dropped, live ones stay.
func TestTokenCacheForgetsOldCredentials(t *testing.T) {
	var c tokens
	creds := func(secret string) *config.Auth {
		return &config.Auth{Type: "oauth2", TokenURL: "https://auth.example.com/token", ClientID: "hub", ClientSecret: config.Secret(secret)}
	}
	c.entry(creds("old")).tok = &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(-time.Minute)}
	c.entry(creds("live")).tok = &oauth2.Token{AccessToken: "b", Expiry: time.Now().Add(time.Hour)}
	c.entry(creds("new"))
	if _, ok := c.m[credentialsKey(creds("old"))]; ok {
		t.Error("the expired credentials' entry stayed")
	}
	if e := c.m[credentialsKey(creds("live"))]; e == nil || e.tok.AccessToken != "b" {
		t.Error("the live token was dropped")
	}
	if len(c.m) != 2 {
		t.Errorf("%d entries, want 2 (live and new)", len(c.m))
	}
}
