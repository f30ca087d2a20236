package config_test

import (
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
)

// TestNATSListenOpenNeedsUsers: an embedded NATS that takes clients from
// other hosts needs logins, from the file or the environment.
func TestNATSListenOpenNeedsUsers(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:4222", ":4222", "[::]:4222", "10.0.0.5:4222", "nats.example.com:4222"} {
		_, err := config.Parse("hub.json", []byte(`{"nats_listen":"`+listen+`"}`), nil)
		if fes := fieldErrors(t, err); fes[0].Path != "nats_listen" || !strings.Contains(fes[0].Msg, "nats_users") || !strings.Contains(fes[0].Msg, listen) {
			t.Errorf("listen %s: %v", listen, err)
		}
		_, err = config.Parse("hub.json", []byte(`{}`), map[string]string{"HOOKHUB_NATS_LISTEN": listen})
		if fes := fieldErrors(t, err); fes[0].Path != "nats_listen" {
			t.Errorf("HOOKHUB_NATS_LISTEN=%s: %v", listen, err)
		}
		doc := `{"nats_listen":"` + listen + `","nats_users":[{"user":"crm","password":"${env:P}","account":"acme"}]}`
		if _, err := config.Parse("hub.json", []byte(doc), map[string]string{"P": "a-long-enough-password"}); err != nil {
			t.Errorf("listen %s with users: %v", listen, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:4222", "127.0.0.1:-1", "localhost:4222", "[::1]:4222", "none"} {
		if _, err := config.Parse("hub.json", []byte(`{"nats_listen":"`+listen+`"}`), nil); err != nil {
			t.Errorf("listen %s: %v", listen, err)
		}
	}
	// An outside NATS is not the hub's to open.
	if _, err := config.Parse("hub.json", []byte(`{"nats_url":"nats://10.0.0.5:4222","nats_listen":"0.0.0.0:4222"}`), nil); err != nil {
		t.Errorf("outside NATS: %v", err)
	}
}

// TestNATSUsersChecked: every mistake in the logins is named, and no
// password shows.
func TestNATSUsersChecked(t *testing.T) {
	const pw = "short-pw"
	doc := `{"nats_users":[
	 {"user":"a","password":"` + pw + `","account":"acme"},
	 {"user":"a","password":"a-long-enough-password","account":"bad account"},
	 {"user":"_hookhub_hub","password":"a-long-enough-password","admin":true},
	 {"user":"c","password":"a-long-enough-password"},
	 {"user":"d","password":"a-long-enough-password","account":"acme","admin":true}],
	 "nats_user":"hub"}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	wants := []struct{ path, msg string }{
		{"nats_users[0].password", "at least 12"},
		{"nats_users[1].user", "duplicate"},
		{"nats_users[1].account", "does not match pattern"},
		{"nats_users[2].user", "hub's own login"},
		{"nats_users[3].account", "is required"},
		{"nats_users[4]", "not both"},
		{"nats_user", "go together"},
	}
	fes := fieldErrors(t, err)
	for _, w := range wants {
		found := false
		for _, fe := range fes {
			found = found || fe.Path == w.path && strings.Contains(fe.Msg, w.msg)
		}
		if !found {
			t.Errorf("no error at %s saying %q; got:\n%v", w.path, w.msg, err)
		}
	}
	if strings.Contains(err.Error(), pw) {
		t.Errorf("an error shows a password: %v", err)
	}
	_, err = config.Parse("hub.json", []byte(`{"nats_url":"nats://127.0.0.1:4222","nats_users":[{"user":"a","password":"a-long-enough-password","account":"acme"}]}`), nil)
	if fes := fieldErrors(t, err); fes[0].Path != "nats_users" || !strings.Contains(fes[0].Msg, "outside NATS") {
		t.Errorf("users with an outside NATS: %v", err)
	}
}

// TestSecretsKeyChecked: secrets_key is base64 32-byte keys; a bad one is
// named by its place, never shown.
func TestSecretsKeyChecked(t *testing.T) {
	const k1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	const k2 = "HxwdHhobGBkWFxQVEhMQEQ4PDA0KCwgJBgcEBQIDAAE="
	c, err := config.Parse("hub.json", []byte(`{}`), map[string]string{"HOOKHUB_SECRETS_KEY": k1 + ", " + k2})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.SecretsKeys()
	if err != nil || len(keys) != 2 || keys[0].ID == keys[1].ID || keys[0].Key[1] != 1 || len(keys[0].ID) != 8 {
		t.Fatalf("keys: %v %+v", err, keys)
	}
	for _, bad := range []string{"c2hvcnQ=", k1 + ",not base64!", k1 + "," + k1} {
		_, err := config.Parse("hub.json", []byte(`{"secrets_key":"${env:K}"}`), map[string]string{"K": bad})
		fes := fieldErrors(t, err)
		if fes[0].Path != "secrets_key" || strings.Contains(err.Error(), "c2hvcnQ") || strings.Contains(err.Error(), k1) {
			t.Errorf("secrets_key %.10s...: %v", bad, err)
		}
	}
}
