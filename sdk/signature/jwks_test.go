package signature_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

// The Ed25519 key of RFC 8037 appendix A.1 and its JWK thumbprint (appendix A.3).
const (
	rfc8037Public     = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	rfc8037X          = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

func TestJWKForm(t *testing.T) {
	p, err := signature.ParsePublicKey(rfc8037Public)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Thumbprint(); got != rfc8037Thumbprint {
		t.Errorf("Thumbprint() = %q, want %q (RFC 8037 A.3)", got, rfc8037Thumbprint)
	}
	j, err := json.Marshal(p.JWK("key-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kty":"OKP","crv":"Ed25519","x":"` + rfc8037X + `","kid":"key-1","use":"sig","alg":"EdDSA"}`
	if string(j) != want {
		t.Errorf("json.Marshal(JWK) = %s\nwant %s", j, want)
	}
	j, _ = json.Marshal(p.JWK(""))
	if strings.Contains(string(j), "kid") {
		t.Errorf("JWK(\"\") = %s, want no kid", j)
	}
	set, _ := json.Marshal(signature.JWKS{Keys: []signature.JWK{p.JWK(p.Thumbprint())}})
	if want := `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + rfc8037X + `","kid":"` + rfc8037Thumbprint + `","use":"sig","alg":"EdDSA"}]}`; string(set) != want {
		t.Errorf("json.Marshal(JWKS) = %s\nwant %s", set, want)
	}
	// The JWK of RFC 8037 A.2, as written there.
	q, err := signature.ParseJWK([]byte(`{"kty":"OKP","crv":"Ed25519",
   "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	if err != nil || q != p {
		t.Errorf("ParseJWK(RFC 8037 A.2) = %v, %v; want %v", q, err, p)
	}
}

// TestJWKSRoundTrip publishes two keys (a rotation) as a hub does, reads them
// back as a receiver does, and verifies with them.
func TestJWKSRoundTrip(t *testing.T) {
	oldK, newK := newSigningKey(t), newSigningKey(t)
	set := signature.JWKS{}
	for _, k := range []signature.SigningKey{newK, oldK} {
		set.Keys = append(set.Keys, k.Public().JWK(k.Public().Thumbprint()))
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "[redacted]") || strings.Contains(string(doc), `"d"`) {
		t.Fatalf("JWKS document %s holds more than public keys", doc)
	}
	keys, err := signature.PublicKeysFromJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != newK.Public() || keys[1] != oldK.Public() {
		t.Fatalf("PublicKeysFromJWKS() = %v, want [%v %v]", keys, newK.Public(), oldK.Public())
	}
	var back signature.JWKS
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	if back.Keys[1].Kid != oldK.Public().Thumbprint() {
		t.Errorf("kid = %q, want %q", back.Keys[1].Kid, oldK.Public().Thumbprint())
	}
	v := signature.Verifier{PublicKeys: keys}
	body := []byte(`{"type":"a.b"}`)
	for _, k := range []signature.SigningKey{oldK, newK} {
		if err := v.Verify(v1aHeader([]signature.SigningKey{k}, "msg", time.Now(), body), body); err != nil {
			t.Errorf("Verify with keys from the JWKS: %v", err)
		}
	}
}

func TestPublicKeysFromJWKS(t *testing.T) {
	x := `"x":"` + rfc8037X + `"`
	ed := `{"kty":"OKP","crv":"Ed25519",` + x + `}`
	cases := []struct {
		name string
		doc  string
		n    int   // keys wanted; 0 wants an error
		is   error // the error wanted, if any in particular
	}{
		{"one", `{"keys":[` + ed + `]}`, 1, nil},
		{"alg Ed25519 (RFC 9864)", `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"Ed25519",` + x + `}]}`, 1, nil},
		{"other types skipped", `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},` + ed + `,{"kty":"OKP","crv":"X25519",` + x + `}]}`, 1, nil},
		{"encryption keys skipped", `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc",` + x + `},` + ed + `]}`, 1, nil},
		{"other algs skipped", `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"ES256",` + x + `}]}`, 0, nil},
		{"unknown members ignored", `{"keys":[{"kty":"OKP","crv":"Ed25519","key_ops":["verify"],"x5t":"x",` + x + `}],"extra":1}`, 1, nil},
		{"no usable key", `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`, 0, nil},
		{"empty set", `{"keys":[]}`, 0, nil},
		{"no keys member", `{}`, 0, nil},
		{"keys null", `{"keys":null}`, 0, nil},
		{"not JSON", `{"keys":[`, 0, nil},
		{"not an object", `[]`, 0, nil},
		{"keys not an array", `{"keys":{}}`, 0, nil},
		{"x missing", `{"keys":[{"kty":"OKP","crv":"Ed25519"}]}`, 0, nil},
		{"x padded", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + rfc8037X + `="}]}`, 0, nil},
		{"x std alphabet", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + strings.ReplaceAll(rfc8037X, "_", "/") + `"}]}`, 0, nil},
		{"x short", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}]}`, 0, nil},
		{"x wrong type", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":32}]}`, 0, nil},
		{"private key", `{"keys":[{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",` + x + `}]}`, 0, signature.ErrPrivateJWK},
		{"private RSA key", `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"c2VjcmV0"},` + ed + `]}`, 0, signature.ErrPrivateJWK},
		{"private key null", `{"keys":[{"kty":"OKP","crv":"Ed25519","d":null,` + x + `}]}`, 0, signature.ErrPrivateJWK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys, err := signature.PublicKeysFromJWKS([]byte(c.doc))
			if c.n > 0 {
				if err != nil || len(keys) != c.n {
					t.Fatalf("PublicKeysFromJWKS() = %d keys, %v; want %d", len(keys), err, c.n)
				}
				if keys[0].String() != rfc8037Public {
					t.Errorf("key = %v, want %v", keys[0], rfc8037Public)
				}
				return
			}
			if err == nil {
				t.Fatalf("PublicKeysFromJWKS() = %v, want an error", keys)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("PublicKeysFromJWKS() = %v, want %v", err, c.is)
			}
			for _, leak := range []string{"nWGxne", "c2VjcmV0"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q quotes private key material", err)
				}
			}
		})
	}
}

func TestJWKPublicKeyErrors(t *testing.T) {
	good := signature.JWK{Kty: "OKP", Crv: "Ed25519", X: rfc8037X}
	if p, err := good.PublicKey(); err != nil || p.String() != rfc8037Public {
		t.Fatalf("PublicKey() = %v, %v", p, err)
	}
	for name, j := range map[string]signature.JWK{
		"kty":  {Kty: "EC", Crv: "Ed25519", X: rfc8037X},
		"crv":  {Kty: "OKP", Crv: "X25519", X: rfc8037X},
		"use":  {Kty: "OKP", Crv: "Ed25519", X: rfc8037X, Use: "enc"},
		"alg":  {Kty: "OKP", Crv: "Ed25519", X: rfc8037X, Alg: "RS256"},
		"x":    {Kty: "OKP", Crv: "Ed25519", X: "!"},
		"zero": {},
	} {
		if p, err := j.PublicKey(); err == nil || !p.IsZero() {
			t.Errorf("%s: PublicKey() = %v, %v; want an error", name, p, err)
		}
	}
	if _, err := signature.ParseJWK([]byte(`{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",` +
		`"x":"` + rfc8037X + `"}`)); !errors.Is(err, signature.ErrPrivateJWK) {
		t.Errorf("ParseJWK(private) = %v, want ErrPrivateJWK", err)
	}
	if _, err := signature.ParseJWK([]byte(`nope`)); err == nil || strings.Contains(err.Error(), "nope") {
		t.Errorf("ParseJWK(not JSON) = %v", err)
	}
	// A JWKS decoded with encoding/json refuses private keys too.
	var set signature.JWKS
	err := json.Unmarshal([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","d":"AAAA","x":"`+rfc8037X+`"}]}`), &set)
	if !errors.Is(err, signature.ErrPrivateJWK) {
		t.Errorf("json.Unmarshal(JWKS with d) = %v, want ErrPrivateJWK", err)
	}
}

// TestVerifyIgnoresRequestKeys: a request can't bring its own key, Verify only
// uses Verifier.PublicKeys.
func TestVerifyIgnoresRequestKeys(t *testing.T) {
	attacker := newSigningKey(t)
	body := []byte("x")
	h := v1aHeader([]signature.SigningKey{attacker}, "msg", time.Now(), body)
	h.Set("Webhook-Public-Key", attacker.Public().String())
	v := signature.Verifier{PublicKeys: pubs(newSigningKey(t))}
	if err := v.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(self-signed) = %v, want ErrInvalidSignature", err)
	}
}
