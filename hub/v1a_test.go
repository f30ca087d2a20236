package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/sdk/signature"
)

// TestV1aSignatures: a webhook that signs with v1 and v1a sends both; a
// receiver that only has the account's public keys, fetched from the hub's
// JWKS, verifies the request, and so does one with only the secret; a
// v1a-only webhook sends no v1 signature. The JWKS publishes every key of
// the account (the next one too, before it signs) and no private part.
func TestV1aSignatures(t *testing.T) {
	current, _ := signature.NewSigningKey()
	next, _ := signature.NewSigningKey()
	other, _ := signature.NewSigningKey()
	rc := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"accounts":[{"id":"acme","signing_keys":[%q,%q]}],"delivery":{"signing_keys":[%q]},"webhooks":[%s,%s]}`,
		current.Reveal(), next.Reveal(), other.Reveal(),
		webhookJSON("both", "acme", rc.URL+"/both", `"events":["*"],"signatures":["v1","v1a"]`),
		webhookJSON("only", "acme", rc.URL+"/only", `"events":["*"],"signatures":["v1a"]`))
	r, a := startAPIHub(t, doc)
	r.publish(t, contact("evt_v1a"))
	reqs := rc.WaitFor(t, 2, 10*time.Second)

	code, _, jwks := a.do("GET", "/v1/accounts/acme/jwks.json", "", "") // public: no token
	if code != http.StatusOK || strings.Contains(string(jwks), `"d"`) {
		t.Fatalf("JWKS: %d %s", code, jwks)
	}
	keys, err := signature.PublicKeysFromJWKS(jwks)
	if err != nil || len(keys) != 2 || keys[0] != current.Public() || keys[1] != next.Public() {
		t.Fatalf("JWKS keys %v (%v), want the account's two", keys, err)
	}
	withKeys := &signature.Verifier{PublicKeys: keys}
	withSecret := &signature.Verifier{Secrets: []signature.Secret{mustSecret(t, testSecret)}}
	for _, q := range reqs {
		sig := q.Header.Get(signature.HeaderSignature)
		if err := withKeys.Verify(q.Header, q.Body); err != nil {
			t.Errorf("%s: a receiver with the JWKS keys refuses it: %v (%s)", q.Path, err, sig)
		}
		if strings.Count(sig, "v1a,") != 1 {
			t.Errorf("%s: want one v1a signature (the current key's), got %q", q.Path, sig)
		}
		v1 := strings.Contains(sig, "v1,")
		if err := withSecret.Verify(q.Header, q.Body); (err == nil) != v1 || v1 != (q.Path == "/both") {
			t.Errorf("%s: v1 in the header %v, verified with the secret: %v", q.Path, v1, err)
		}
		if err := (&signature.Verifier{PublicKeys: []signature.PublicKey{next.Public()}}).Verify(q.Header, q.Body); err == nil {
			t.Errorf("%s: verified with the next key, which does not sign yet", q.Path)
		}
	}
	// An account without keys of its own gets a key derived for it from the
	// hub's default: not the default itself, nor another account's.
	seen := map[signature.PublicKey]string{}
	for _, account := range []string{"nobody", "nobody2"} {
		code, _, b := a.do("GET", "/v1/accounts/"+account+"/jwks.json", "", "")
		ks, _ := signature.PublicKeysFromJWKS(b)
		if code != http.StatusOK || len(ks) != 1 || ks[0] != delivery.DeriveAccountKey(other, account).Public() || ks[0] == other.Public() {
			t.Errorf("%s's JWKS, without keys of its own: %d %s", account, code, b)
		} else if prev, ok := seen[ks[0]]; ok {
			t.Errorf("%s and %s publish the same key", prev, account)
		}
		if len(ks) == 1 {
			seen[ks[0]] = account
		}
	}

	if code, _, b := a.do("GET", "/v1/accounts/no..account/jwks.json", "", ""); code != http.StatusNotFound {
		t.Errorf("a name that is no account id: %d %s, want 404", code, b)
	}

	_, err = startHubErr(t, `{"webhooks":[`+webhookJSON("nokey", "acme", rc.URL, `"events":["*"],"signatures":["v1a"]`)+`]}`)
	if err == nil || !strings.Contains(err.Error(), "webhooks[0].signatures: v1a needs a signing key") {
		t.Errorf("v1a without a key: %v", err)
	}
	_, err = startHubErr(t, `{"accounts":[{"id":"acme","signing_keys":["whsk_bm90LWEta2V5"]}],"webhooks":[]}`)
	if err == nil || !strings.Contains(err.Error(), "accounts[0].signing_keys[0]: must be whsk_") || strings.Contains(err.Error(), "bm90LWEta2V5") {
		t.Errorf("a bad key: %v", err)
	}
}

func mustSecret(t *testing.T, s string) signature.Secret {
	t.Helper()
	sec, err := signature.ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

// TestV1aAccountCannotSignAsAnother: accounts without keys of their own do
// not share the hub's default key. acme's token makes a webhook to beta's
// receiver whose plugin writes beta's account into the body; the request it
// sends does not verify with beta's published keys. (It did, when every
// such account signed with the default key.)
func TestV1aAccountCannotSignAsAnother(t *testing.T) {
	def, _ := signature.NewSigningKey()
	const acmeToken = "acme-account-token-0123456789"
	betaReceiver := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"accounts":[{"id":"acme","api_token":%q},{"id":"beta"}],"delivery":{"signing_keys":[%q]},"webhooks":[]}`,
		acmeToken, def.Reveal())
	_, a := startAPIHub(t, doc)

	body := fmt.Sprintf(`{"url":%q,"events":["contact.*"],"signatures":["v1a"],
	 "plugin":{"name":"js","config":{"script":"function handler(w) { w.payload.account = 'beta'; w.payload.data = {email: 'attacker@example.com'}; return w; }"}}}`,
		betaReceiver.URL+"/beta-hooks")
	code, created, raw := a.do("POST", "/v1/webhooks", body, acmeToken)
	if code != http.StatusCreated {
		t.Fatalf("acme creating its webhook: %d %s", code, raw)
	}
	id := created["id"].(string)
	if code, _, raw := a.do("POST", "/v1/webhooks/"+id+"/test", `{"event_type":"contact.updated"}`, acmeToken); code != http.StatusOK {
		t.Fatalf("acme's test send: %d %s", code, raw)
	}
	req := betaReceiver.WaitFor(t, 1, 10*time.Second)[0]

	// beta's receiver verifies v1a with beta's published keys.
	code, _, jwks := a.do("GET", "/v1/accounts/beta/jwks.json", "", "")
	if code != http.StatusOK {
		t.Fatalf("beta's JWKS: %d %s", code, jwks)
	}
	keys, err := signature.PublicKeysFromJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Account string }
	_ = json.Unmarshal(req.Body, &got)
	if err := (&signature.Verifier{PublicKeys: keys}).Verify(req.Header, req.Body); err == nil {
		t.Errorf("a request acme's webhook caused (body account %q: %.200s) verifies with beta's JWKS: acme can forge beta's signed events", got.Account, req.Body)
	}
}
