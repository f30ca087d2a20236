package signcheck_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/sdk/signature"
)

// TestCrossCheckOfficial signs with one implementation and verifies with the other,
// over random secrets, ids and bodies. The official library verifies against time.Now.
func TestCrossCheckOfficial(t *testing.T) {
	for i := range 50 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			raw := randomBytes(16 + mathrand.IntN(49))
			text := "whsec_" + base64.StdEncoding.EncodeToString(raw)
			ours := mustParse(t, text)
			theirs, err := standardwebhooks.NewWebhook(text)
			if err != nil {
				t.Fatal(err)
			}
			id := "msg_" + base64.RawURLEncoding.EncodeToString(randomBytes(1+mathrand.IntN(24)))
			body := randomBytes(mathrand.IntN(4096))
			ts := time.Now().Add(time.Duration(mathrand.IntN(240)-120) * time.Second)

			// Same signature from both.
			want, err := theirs.Sign(id, ts, body)
			if err != nil {
				t.Fatal(err)
			}
			if got := signature.Sign(ours, id, ts, body); got != want {
				t.Fatalf("Sign() = %q, official Sign() = %q", got, want)
			}

			// Ours signs, theirs verifies.
			h := signedHeader([]signature.Secret{ours}, id, ts, body)
			if err := theirs.Verify(body, h); err != nil {
				t.Errorf("official Verify(our request) = %v", err)
			}

			// Theirs signs, ours verifies.
			h2 := http.Header{}
			h2.Set(standardwebhooks.HeaderWebhookID, id)
			h2.Set(standardwebhooks.HeaderWebhookTimestamp, itoa(ts.Unix()))
			h2.Set(standardwebhooks.HeaderWebhookSignature, want)
			if err := signature.Verify(ours, h2, body); err != nil {
				t.Errorf("Verify(official request) = %v", err)
			}

			// A rotated request (new and old secret) passes the official verifier
			// holding either secret alone.
			other, err := signature.NewSecret()
			if err != nil {
				t.Fatal(err)
			}
			otherTheirs, err := standardwebhooks.NewWebhook(other.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			hr := signedHeader([]signature.Secret{other, ours}, id, ts, body)
			if err := theirs.Verify(body, hr); err != nil {
				t.Errorf("official Verify(rotated request, old secret) = %v", err)
			}
			if err := otherTheirs.Verify(body, hr); err != nil {
				t.Errorf("official Verify(rotated request, new secret) = %v", err)
			}

			// Tampering fails on both sides.
			if len(body) > 0 {
				bad := append([]byte(nil), body...)
				bad[mathrand.IntN(len(bad))] ^= 1
				if err := theirs.Verify(bad, h); err == nil {
					t.Error("official Verify(tampered body) = nil")
				}
				if err := signature.Verify(ours, h2, bad); err == nil {
					t.Error("Verify(tampered body) = nil")
				}
			}
		})
	}
}

func mustParse(t testing.TB, s string) signature.Secret {
	t.Helper()
	sec, err := signature.ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	return sec
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// signedHeader returns the three headers of a request signed with secrets.
func signedHeader(secrets []signature.Secret, id string, ts time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, itoa(ts.Unix()))
	h.Set(signature.HeaderSignature, signature.SignAll(secrets, id, ts, body))
	return h
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
