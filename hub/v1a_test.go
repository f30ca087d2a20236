package hub_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
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
	if code, _, b := a.do("GET", "/v1/accounts/nobody/jwks.json", "", ""); code != http.StatusOK {
		t.Errorf("an account without keys of its own gets the hub's default: %d", code)
	} else if ks, _ := signature.PublicKeysFromJWKS(b); len(ks) != 1 || ks[0] != other.Public() {
		t.Errorf("default JWKS: %s", b)
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
