package signature_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

// The hub signs with its ed25519 signing key (v1a) and, while receivers move
// over, with the endpoint's secret too (v1); a receiver holding only the public
// key verifies. The clock is fixed here so the output is stable.
func ExampleSignV1a() {
	key, err := signature.ParseSigningKey("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")
	if err != nil {
		panic(err)
	}
	secret, _ := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

	id, ts, body := "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)
	fmt.Println(signature.SignV1a(key, id, ts, body))

	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(signature.HeaderSignature, signature.SignHeader([]signature.Secret{secret}, []signature.SigningKey{key}, id, ts, body))

	// The receiver is configured with the public key, which is not secret.
	fmt.Println(key.Public())
	pub, _ := signature.ParsePublicKey(key.Public().String())
	v := signature.Verifier{
		PublicKeys: []signature.PublicKey{pub},
		Now:        func() time.Time { return ts.Add(time.Minute) },
	}
	fmt.Println(v.Verify(h, body))
	fmt.Println(v.Verify(h, []byte(`{"test": 0}`)))
	fmt.Println(key)
	// Output:
	// v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==
	// whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=
	// <nil>
	// signature: invalid signature: no webhook-signature matches
	// [redacted]
}

// The hub publishes its public keys as a JWKS; a receiver fetches it once (and
// again when a key it doesn't know appears) and verifies with the keys.
func ExamplePublicKeysFromJWKS() {
	key, _ := signature.ParseSigningKey("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")

	// The hub's endpoint.
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pub := key.Public()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(signature.JWKS{Keys: []signature.JWK{pub.JWK(pub.Thumbprint())}})
	}))
	defer hub.Close()

	// The receiver.
	resp, err := http.Get(hub.URL + "/.well-known/jwks.json")
	if err != nil {
		panic(err)
	}
	doc, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	fmt.Print(string(doc))
	keys, err := signature.PublicKeysFromJWKS(doc)
	if err != nil {
		panic(err)
	}

	id, ts, body := "msg_1", time.Now(), []byte(`{"type":"contact.created"}`)
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(signature.HeaderSignature, signature.SignV1a(key, id, ts, body))
	v := signature.Verifier{PublicKeys: keys}
	fmt.Println(v.Verify(h, body))
	// Output:
	// {"keys":[{"kty":"OKP","crv":"Ed25519","x":"ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c_g","kid":"3n4GkzbCBQuUyldbsa0l4ABSEOzW94RG8oKzQcFv96I","use":"sig","alg":"EdDSA"}]}
	// <nil>
}
