package signature_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

func newSecret(t testing.TB) signature.Secret {
	t.Helper()
	s, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRotation(t *testing.T) {
	oldS, newS := newSecret(t), newSecret(t)
	body := []byte(`{"type":"contact.updated"}`)
	ts := time.Now()
	h := signedHeader([]signature.Secret{newS, oldS}, "msg_rot", ts, body)

	sigs := strings.Split(h.Get(signature.HeaderSignature), " ")
	if len(sigs) != 2 {
		t.Fatalf("SignAll gave %d signatures, want 2: %q", len(sigs), h.Get(signature.HeaderSignature))
	}
	if sigs[0] != signature.Sign(newS, "msg_rot", ts, body) || sigs[1] != signature.Sign(oldS, "msg_rot", ts, body) {
		t.Errorf("SignAll() = %q, want Sign(new) Sign(old)", sigs)
	}
	for name, s := range map[string]signature.Secret{"old": oldS, "new": newS} {
		if err := signature.Verify(s, h, body); err != nil {
			t.Errorf("Verify(%s secret) = %v, want nil", name, err)
		}
	}
	// Each signature alone verifies with its own secret only.
	for i, s := range []signature.Secret{newS, oldS} {
		one := h.Clone()
		one.Set(signature.HeaderSignature, sigs[i])
		if err := signature.Verify(s, one, body); err != nil {
			t.Errorf("Verify(signature %d alone) = %v", i, err)
		}
		if err := signature.Verify([]signature.Secret{oldS, newS}[i], one, body); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("Verify(signature %d, other secret) = %v, want ErrInvalidSignature", i, err)
		}
	}
	// A receiver holding both secrets accepts a request signed with either.
	v := signature.Verifier{Secrets: []signature.Secret{newS, oldS}}
	for _, s := range []signature.Secret{oldS, newS} {
		if err := v.Verify(signedHeader([]signature.Secret{s}, "msg_x", ts, body), body); err != nil {
			t.Errorf("Verifier with both secrets: %v", err)
		}
	}
	// A third secret matches nothing.
	if err := signature.Verify(newSecret(t), h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(unrelated secret) = %v, want ErrInvalidSignature", err)
	}
}

func TestSignAllSkipsZero(t *testing.T) {
	s := newSecret(t)
	ts := time.Unix(1700000000, 0)
	got := signature.SignAll([]signature.Secret{{}, s, {}}, "id", ts, nil)
	if want := signature.Sign(s, "id", ts, nil); got != want {
		t.Errorf("SignAll(zero, s, zero) = %q, want %q", got, want)
	}
	if got := signature.SignAll(nil, "id", ts, nil); got != "" {
		t.Errorf("SignAll(nil) = %q, want empty", got)
	}
	if got := signature.Sign(signature.Secret{}, "id", ts, nil); got != "" {
		t.Errorf("Sign(zero) = %q, want empty", got)
	}
}

func TestVerifyTampered(t *testing.T) {
	s := newSecret(t)
	body := []byte(`{"a":1}`)
	ts := time.Now()
	good := signedHeader([]signature.Secret{s}, "msg_1", ts, body)
	if err := signature.Verify(s, good, body); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	checkTampered(t, good, tamperings(body, ts, 5), func(h http.Header, b []byte) error { return signature.Verify(s, h, b) })
}

// tamperings change one signed part of a request each: the body, the id,
// the timestamp or a byte of the signature (at flip, inside its base64).
func tamperings(body []byte, ts time.Time, flip int) map[string]func(h http.Header) []byte {
	return map[string]func(h http.Header) []byte{
		"body":      func(h http.Header) []byte { return []byte(`{"a":2}`) },
		"body tail": func(h http.Header) []byte { return append(append([]byte{}, body...), ' ') },
		"id": func(h http.Header) []byte {
			h.Set(signature.HeaderID, "msg_2")
			return body
		},
		"timestamp": func(h http.Header) []byte {
			h.Set(signature.HeaderTimestamp, itoa(ts.Unix()+1))
			return body
		},
		"signature": func(h http.Header) []byte {
			sig := []byte(h.Get(signature.HeaderSignature))
			sig[flip] ^= 1
			h.Set(signature.HeaderSignature, string(sig))
			return body
		},
	}
}

// checkTampered: each tampering of the good request fails verify with
// ErrInvalidSignature.
func checkTampered(t *testing.T, good http.Header, cases map[string]func(h http.Header) []byte, verify func(http.Header, []byte) error) {
	t.Helper()
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			h := good.Clone()
			b := tamper(h)
			if err := verify(h, b); !errors.Is(err, signature.ErrInvalidSignature) {
				t.Errorf("Verify() = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestVerifyTimestampWindow(t *testing.T) {
	s := newSecret(t)
	now := time.Unix(1_800_000_000, 0)
	body := []byte("x")
	cases := []struct {
		name string
		ts   time.Time
		tol  time.Duration
		want error
	}{
		{"now", now, 0, nil},
		{"4m59s old", now.Add(-299 * time.Second), 0, nil},
		{"5m old", now.Add(-5 * time.Minute), 0, nil},
		{"5m1s old", now.Add(-301 * time.Second), 0, signature.ErrTimestampTooOld},
		{"a day old", now.Add(-24 * time.Hour), 0, signature.ErrTimestampTooOld},
		{"epoch", time.Unix(0, 0), 0, signature.ErrTimestampTooOld},
		{"5m ahead", now.Add(5 * time.Minute), 0, nil},
		{"5m1s ahead", now.Add(301 * time.Second), 0, signature.ErrTimestampTooNew},
		{"year 2200", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 0, signature.ErrTimestampTooNew},
		{"1h old, 2h tolerance", now.Add(-time.Hour), 2 * time.Hour, nil},
		{"31s old, 30s tolerance", now.Add(-31 * time.Second), 30 * time.Second, signature.ErrTimestampTooOld},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := signature.Verifier{Secrets: []signature.Secret{s}, Tolerance: c.tol, Now: func() time.Time { return now }}
			err := v.Verify(signedHeader(v.Secrets, "msg", c.ts, body), body)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Errorf("Verify() = %v, want %v", err, c.want)
			}
		})
	}
	// Timestamps a signed int64 can't hold, or that overflow time arithmetic.
	for _, ts := range []string{"9223372036854775807", "99999999999999999999", "-1", "1.5", "0x10", " ", "1e9"} {
		h := signedHeader([]signature.Secret{s}, "msg", now, body)
		h.Set(signature.HeaderTimestamp, ts)
		v := signature.Verifier{Secrets: []signature.Secret{s}, Now: func() time.Time { return now }}
		if err := v.Verify(h, body); err == nil {
			t.Errorf("Verify(timestamp %q) = nil, want an error", ts)
		}
	}
}

func TestVerifyMissingHeaders(t *testing.T) {
	s := newSecret(t)
	body := []byte("x")
	good := signedHeader([]signature.Secret{s}, "msg", time.Now(), body)
	for _, name := range []string{signature.HeaderID, signature.HeaderTimestamp, signature.HeaderSignature} {
		for _, how := range []string{"absent", "empty"} {
			h := good.Clone()
			if how == "absent" {
				h.Del(name)
			} else {
				h.Set(name, "")
			}
			if err := signature.Verify(s, h, body); !errors.Is(err, signature.ErrMissingHeaders) {
				t.Errorf("%s %s: Verify() = %v, want ErrMissingHeaders", name, how, err)
			}
		}
	}
	if err := signature.Verify(s, nil, body); !errors.Is(err, signature.ErrMissingHeaders) {
		t.Errorf("Verify(nil header) = %v, want ErrMissingHeaders", err)
	}
}

func TestVerifyHeaderForms(t *testing.T) {
	s := newSecret(t)
	body := []byte("x")
	ts := time.Now()
	sig := signature.Sign(s, "msg", ts, body)
	other := signature.Sign(newSecret(t), "msg", ts, body)
	cases := map[string]http.Header{
		// A map literal with the specification's lower-case names, not canonicalized.
		"lower-case map keys": {"webhook-id": {"msg"}, "webhook-timestamp": {itoa(ts.Unix())}, "webhook-signature": {sig}},
		"mixed-case map keys": {"WEBHOOK-ID": {"msg"}, "Webhook-Timestamp": {itoa(ts.Unix())}, "webhook-Signature": {sig}},
		// A proxy that split the list over several header lines.
		"signature over two lines": {"Webhook-Id": {"msg"}, "Webhook-Timestamp": {itoa(ts.Unix())}, "Webhook-Signature": {other, sig}},
		"extra spaces":             {"Webhook-Id": {"msg"}, "Webhook-Timestamp": {itoa(ts.Unix())}, "Webhook-Signature": {"  " + other + "   " + sig + " "}},
	}
	for name, h := range cases {
		if err := signature.Verify(s, h, body); err != nil {
			t.Errorf("%s: Verify() = %v, want nil", name, err)
		}
	}
}

func TestVerifyBoundsSignatureCount(t *testing.T) {
	s := newSecret(t)
	body := []byte("x")
	ts := time.Now()
	h := signedHeader([]signature.Secret{s}, "msg", ts, body)
	junk := strings.Repeat("v1,AAAA ", 1000)
	h.Set(signature.HeaderSignature, junk+signature.Sign(s, "msg", ts, body))
	if err := signature.Verify(s, h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(match after 1000 junk signatures) = %v, want ErrInvalidSignature", err)
	}
}

func TestVerifierNoSecrets(t *testing.T) {
	s := newSecret(t)
	body := []byte("x")
	h := signedHeader([]signature.Secret{s}, "msg", time.Now(), body)
	for name, v := range map[string]*signature.Verifier{
		"nil":  {},
		"zero": {Secrets: []signature.Secret{{}}},
	} {
		if err := v.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("%s secrets: Verify() = %v, want ErrInvalidSignature", name, err)
		}
	}
	if err := signature.Verify(signature.Secret{}, h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(zero secret) = %v, want ErrInvalidSignature", err)
	}
}

// TestConcurrent shares secrets and a Verifier between goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	a, b := newSecret(t), newSecret(t)
	v := signature.Verifier{Secrets: []signature.Secret{a, b}}
	hammer(t, &v, 200, func(i int, id string, ts time.Time, body []byte) http.Header {
		return signedHeader([]signature.Secret{[]signature.Secret{a, b}[i%2]}, id, ts, body)
	})
}

// hammer verifies n requests signed by sign, and their tampered copies, from
// 8 goroutines sharing v.
func hammer(t *testing.T, v *signature.Verifier, n int, sign func(i int, id string, ts time.Time, body []byte) http.Header) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range n {
				body := randomBytes(i)
				id := "msg_" + itoa(int64(g*1000+i))
				h := sign(i, id, time.Now(), body)
				if err := v.Verify(h, body); err != nil {
					t.Errorf("Verify() = %v", err)
					return
				}
				if len(body) > 0 {
					body[0] ^= 0xff
					if err := v.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
						t.Errorf("Verify(tampered) = %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestHeaderNamesCanonical(t *testing.T) {
	for _, name := range []string{signature.HeaderID, signature.HeaderTimestamp, signature.HeaderSignature} {
		h := http.Header{}
		h.Set(name, "x")
		if len(h) != 1 || h.Get(name) != "x" {
			t.Errorf("header %q does not round-trip through http.Header", name)
		}
	}
}
