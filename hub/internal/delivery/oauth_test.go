package delivery

import (
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/config"
)

// TestTokenCacheForgetsOldCredentials: the cache keeps one entry per set of
// credentials; when new credentials come, those no delivery asked for in an
// hour (a rotated secret, a deleted webhook) are dropped, others stay.
func TestTokenCacheForgetsOldCredentials(t *testing.T) {
	var c tokens
	creds := func(secret string) *config.Auth {
		return &config.Auth{Type: "oauth2", TokenURL: "https://auth.example.com/token", ClientID: "hub", ClientSecret: config.Secret(secret)}
	}
	c.entry(creds("old")).used = time.Now().Add(-2 * tokenIdle)
	c.entry(creds("recent")).used = time.Now().Add(-tokenIdle / 2)
	c.entry(creds("new"))
	if _, ok := c.m[credentialsKey(creds("old"))]; ok {
		t.Error("credentials idle for two hours stayed")
	}
	if _, ok := c.m[credentialsKey(creds("recent"))]; !ok {
		t.Error("credentials used half an hour ago were dropped")
	}
	if len(c.m) != 2 {
		t.Errorf("%d entries, want 2 (recent and new)", len(c.m))
	}
}
