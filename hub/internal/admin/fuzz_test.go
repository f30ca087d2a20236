package admin

import (
	"testing"

	"github.com/hookhub/hookhub/hub/config"
)

// FuzzParseWebhook: no API body panics the webhook validation, and what it
// accepts has an id, an account, a URL the policy allows, and a secret.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"account":"acme","url":"https://x.example.com","events":["*"]}`))
	f.Add([]byte(`{"account":"acme","url":"https://x.example.com","events":["*"],"plugin":{"name":"mapper","config":{}}}`))
	f.Add([]byte(`{"id":"a","account":"acme","url":"http://127.0.0.1","events":["email.*"],"headers":{"webhook-id":"x"}}`))
	f.Add([]byte(`[]`))
	cfg, err := config.Parse("fuzz", []byte(`{}`), nil)
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{d: Deps{Config: cfg}}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := s.parseWebhook(b, "", "")
		if err != nil {
			return
		}
		if w.ID == "" || w.Account == "" || w.Secret == "" || cfg.TargetPolicy().CheckURL(w.URL) != nil {
			t.Fatalf("accepted an incomplete webhook: %+v", w)
		}
	})
}
