package signature_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

// The v1a test vector of the Standard Webhooks reference Go library:
// github.com/standard-webhooks/standard-webhooks, libraries/go/webhook_asymmetric_test.go,
// TestAsymmetricWebhookSign (commit 5fb2ce9369bd9533ed635c0c84f8d7b0dac3a5bf).
// The library takes the key as base64 of the 32-byte ed25519 seed, with or
// without the "whsk_" prefix (TestAsymmetricWebhookPrefix).
const (
	specV1aKey    = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=" // "TESTSIGNINGKEYDONOTUSETHISFORANY"
	specV1aID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specV1aTS     = 1614265330
	specV1aBody   = `{"test": 2432232314}`
	specV1aWant   = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
	specV1aPublic = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=" // derived here from the seed, not in the source
	specV1aSeed   = "TESTSIGNINGKEYDONOTUSETHISFORANY"
)

func mustSigningKey(t testing.TB, s string) signature.SigningKey {
	t.Helper()
	k, err := signature.ParseSigningKey(s)
	if err != nil {
		t.Fatalf("ParseSigningKey: %v", err)
	}
	return k
}

func newSigningKey(t testing.TB) signature.SigningKey {
	t.Helper()
	k, err := signature.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// v1aHeader returns the headers of a request signed with keys only.
func v1aHeader(keys []signature.SigningKey, id string, ts time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, itoa(ts.Unix()))
	h.Set(signature.HeaderSignature, signature.SignHeader(nil, keys, id, ts, body))
	return h
}

func pubs(keys ...signature.SigningKey) []signature.PublicKey {
	var p []signature.PublicKey
	for _, k := range keys {
		p = append(p, k.Public())
	}
	return p
}

func TestSignV1aSpecVector(t *testing.T) {
	k := mustSigningKey(t, specV1aKey)
	ts := time.Unix(specV1aTS, 0)
	body := []byte(specV1aBody)
	if got := signature.SignV1a(k, specV1aID, ts, body); got != specV1aWant {
		t.Errorf("SignV1a() = %q, want %q", got, specV1aWant)
	}
	if got := string(signature.AppendSignV1a([]byte("x "), k, specV1aID, ts, body)); got != "x "+specV1aWant {
		t.Errorf("AppendSignV1a() = %q, want %q", got, "x "+specV1aWant)
	}
	if got := k.Reveal(); got != specV1aKey {
		t.Errorf("Reveal() = %q, want %q", got, specV1aKey)
	}
	if got := k.Public().String(); got != specV1aPublic {
		t.Errorf("Public() = %q, want %q", got, specV1aPublic)
	}
	// The vector verifies, at its own time, with the parsed public key.
	pub, err := signature.ParsePublicKey(specV1aPublic)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(signature.HeaderID, specV1aID)
	h.Set(signature.HeaderTimestamp, itoa(specV1aTS))
	h.Set(signature.HeaderSignature, specV1aWant)
	v := signature.Verifier{PublicKeys: []signature.PublicKey{pub}, Now: func() time.Time { return ts }}
	if err := v.Verify(h, body); err != nil {
		t.Errorf("Verify(spec vector) = %v", err)
	}
	// And crypto/ed25519 agrees on what is signed.
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(specV1aWant, "v1a,"))
	msg := specV1aID + "." + itoa(specV1aTS) + "." + specV1aBody
	if !ed25519.Verify(pub.Bytes(), []byte(msg), sig) {
		t.Error("ed25519.Verify(spec vector) = false")
	}
	if want := ed25519.NewKeyFromSeed([]byte(specV1aSeed)).Public().(ed25519.PublicKey); !want.Equal(ed25519.PublicKey(pub.Bytes())) {
		t.Error("public key is not the seed's")
	}
}

// Vectors generated with this package from the key of RFC 8037 appendix A.1
// (d = nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A, x =
// 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo), checked with crypto/ed25519 here
// and, when written, with Python's cryptography package (OpenSSL):
// Ed25519PrivateKey.from_private_bytes(d).sign(b"<id>.1674087231.<body>").
func TestSignV1aGeneratedVectors(t *testing.T) {
	const key = "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
	const pub = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	k := mustSigningKey(t, key)
	if got := k.Public().String(); got != pub {
		t.Fatalf("Public() = %q, want %q (RFC 8037 A.1)", got, pub)
	}
	for _, v := range []struct{ id, body, want string }{
		{"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", `{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}`,
			"v1a,pbpYBMlty2hExn4zt0UTGb6BaP2Vq5AfyzjB9GGV3x/wCJKd8UjOCf8Qhaji6TKY9C5eNMnlF0GG4udaO6B7Ag=="},
		{"evt_1:wh_2", "",
			"v1a,BONdaQQdpS9Fcmfsm4x8KjdKCooo8p9xPnyJGVGYrmLlzOM4G0EM/0TdYpfNxAou/BGanFCV7wWrnJruY9qXCA=="},
	} {
		ts := time.Unix(1674087231, 0)
		got := signature.SignV1a(k, v.id, ts, []byte(v.body))
		if got != v.want {
			t.Errorf("SignV1a(%q) = %q, want %q", v.id, got, v.want)
		}
		sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, "v1a,"))
		if err != nil || !ed25519.Verify(k.Public().Bytes(), []byte(v.id+".1674087231."+v.body), sig) {
			t.Errorf("ed25519.Verify(SignV1a(%q)) failed (%v)", v.id, err)
		}
	}
}

// TestV1aCrossCheckEd25519 checks over random inputs that crypto/ed25519.Verify
// accepts what SignV1a makes, and that Verify accepts what ed25519.Sign makes.
func TestV1aCrossCheckEd25519(t *testing.T) {
	for i := range 50 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			seed := randomBytes(ed25519.SeedSize)
			priv := ed25519.NewKeyFromSeed(seed)
			k := mustSigningKey(t, "whsk_"+base64.RawStdEncoding.EncodeToString(seed))
			if string(k.Public().Bytes()) != string(priv.Public().(ed25519.PublicKey)) {
				t.Fatal("Public() differs from crypto/ed25519")
			}
			id := "msg_" + base64.RawURLEncoding.EncodeToString(randomBytes(1+mathrand.IntN(24)))
			body := randomBytes(mathrand.IntN(4096))
			ts := time.Now().Add(time.Duration(mathrand.IntN(240)-120) * time.Second)
			msg := []byte(id + "." + itoa(ts.Unix()) + "." + string(body))

			ours := signature.SignV1a(k, id, ts, body)
			sig, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(ours, "v1a,"))
			if !strings.HasPrefix(ours, "v1a,") || err != nil || !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, sig) {
				t.Fatalf("ed25519.Verify rejects SignV1a() = %q (%v)", ours, err)
			}
			theirs := "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
			if theirs != ours {
				t.Errorf("SignV1a() = %q, ed25519.Sign gives %q", ours, theirs)
			}
			h := v1aHeader(nil, id, ts, body)
			h.Set(signature.HeaderSignature, theirs)
			v := signature.Verifier{PublicKeys: []signature.PublicKey{k.Public()}}
			if err := v.Verify(h, body); err != nil {
				t.Errorf("Verify(ed25519.Sign signature) = %v", err)
			}
		})
	}
}

func TestV1aRoundTripAndRotation(t *testing.T) {
	oldK, newK := newSigningKey(t), newSigningKey(t)
	body := []byte(`{"type":"contact.updated"}`)
	ts := time.Now()
	h := v1aHeader([]signature.SigningKey{newK, oldK}, "msg_rot", ts, body)
	sigs := strings.Split(h.Get(signature.HeaderSignature), " ")
	if len(sigs) != 2 || sigs[0] != signature.SignV1a(newK, "msg_rot", ts, body) || sigs[1] != signature.SignV1a(oldK, "msg_rot", ts, body) {
		t.Fatalf("SignHeader(nil, new, old) = %q, want SignV1a(new) SignV1a(old)", sigs)
	}
	for name, k := range map[string]signature.SigningKey{"old": oldK, "new": newK} {
		v := signature.Verifier{PublicKeys: pubs(k)}
		if err := v.Verify(h, body); err != nil {
			t.Errorf("Verify(%s public key) = %v", name, err)
		}
	}
	// Each signature alone verifies under its own key only.
	for i, k := range []signature.SigningKey{newK, oldK} {
		one := h.Clone()
		one.Set(signature.HeaderSignature, sigs[i])
		v := signature.Verifier{PublicKeys: pubs(k)}
		if err := v.Verify(one, body); err != nil {
			t.Errorf("Verify(signature %d alone) = %v", i, err)
		}
		other := signature.Verifier{PublicKeys: pubs([]signature.SigningKey{oldK, newK}[i])}
		if err := other.Verify(one, body); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("Verify(signature %d, other key) = %v, want ErrInvalidSignature", i, err)
		}
	}
	// A receiver holding both keys accepts a request signed with either.
	both := signature.Verifier{PublicKeys: pubs(newK, oldK)}
	for _, k := range []signature.SigningKey{oldK, newK} {
		if err := both.Verify(v1aHeader([]signature.SigningKey{k}, "msg_x", ts, body), body); err != nil {
			t.Errorf("Verifier with both keys: %v", err)
		}
	}
	// An unrelated key matches nothing.
	wrong := signature.Verifier{PublicKeys: pubs(newSigningKey(t))}
	if err := wrong.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(wrong key) = %v, want ErrInvalidSignature", err)
	}
	// A secret alone doesn't verify v1a signatures.
	if err := signature.Verify(newSecret(t), h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(secret, v1a-only header) = %v, want ErrInvalidSignature", err)
	}
}

func TestV1aTampered(t *testing.T) {
	k := newSigningKey(t)
	v := signature.Verifier{PublicKeys: pubs(k)}
	body := []byte(`{"a":1}`)
	ts := time.Now()
	good := v1aHeader([]signature.SigningKey{k}, "msg_1", ts, body)
	if err := v.Verify(good, body); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	cases := tamperings(body, ts, 10)
	cases["no body"] = func(h http.Header) []byte { return nil }
	cases["version v1"] = func(h http.Header) []byte {
		h.Set(signature.HeaderSignature, "v1,"+strings.TrimPrefix(h.Get(signature.HeaderSignature), "v1a,"))
		return body
	}
	checkTampered(t, good, cases, v.Verify)
}

func TestV1aTimestampCheckedFirst(t *testing.T) {
	k := newSigningKey(t)
	now := time.Unix(1_800_000_000, 0)
	v := signature.Verifier{PublicKeys: pubs(k), Now: func() time.Time { return now }}
	body := []byte("x")
	if err := v.Verify(v1aHeader([]signature.SigningKey{k}, "msg", now.Add(-301*time.Second), body), body); !errors.Is(err, signature.ErrTimestampTooOld) {
		t.Errorf("Verify(old, correctly signed) = %v, want ErrTimestampTooOld", err)
	}
	if err := v.Verify(v1aHeader([]signature.SigningKey{k}, "msg", now.Add(301*time.Second), body), body); !errors.Is(err, signature.ErrTimestampTooNew) {
		t.Errorf("Verify(new, correctly signed) = %v, want ErrTimestampTooNew", err)
	}
	h := v1aHeader([]signature.SigningKey{k}, "msg", now, body)
	h.Set(signature.HeaderTimestamp, "0"+itoa(now.Unix()))
	if err := v.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("Verify(leading zero timestamp) = %v, want ErrInvalidSignature", err)
	}
}

func TestV1aMalformedIgnored(t *testing.T) {
	k := newSigningKey(t)
	v := signature.Verifier{PublicKeys: pubs(k)}
	body := []byte("x")
	ts := time.Now()
	good := signature.SignV1a(k, "msg", ts, body)
	b64 := strings.TrimPrefix(good, "v1a,")
	malformed := []string{
		"v1a,",
		"v1a",
		"v1a,,",
		"v1a,!!!!",
		"v1a," + strings.Repeat("A", 88),
		"v1a," + strings.Repeat("=", 88),
		"v1a," + b64[:86],                 // unpadded
		"v1a," + b64 + "==",               // over-padded
		"v1a," + b64[:len(b64)-3] + "B==", // non-canonical trailing bits, maybe
		"v1a," + strings.ReplaceAll(b64, "+", "-"), // URL alphabet
		"v1a," + b64[:40] + "\n" + b64[41:],
		"v1a," + base64.StdEncoding.EncodeToString(make([]byte, 63)),
		"v1a," + base64.StdEncoding.EncodeToString(make([]byte, 65)),
		"v1a," + base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"v1a," + base64.StdEncoding.EncodeToString(append(make([]byte, 32), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
		"V1A," + b64,
		"v1a;" + b64,
		"v2a," + b64,
	}
	for _, bad := range malformed {
		if bad == good {
			continue
		}
		h := v1aHeader(nil, "msg", ts, body)
		h.Set(signature.HeaderSignature, bad)
		if err := v.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("Verify(%q) = %v, want ErrInvalidSignature", bad, err)
		}
		// Ignored, not fatal: a good signature after it still passes.
		h.Set(signature.HeaderSignature, bad+" "+good)
		if err := v.Verify(h, body); err != nil {
			t.Errorf("Verify(%q + good) = %v, want nil", bad, err)
		}
	}
}

func TestV1aBounds(t *testing.T) {
	k := newSigningKey(t)
	v := signature.Verifier{PublicKeys: pubs(k)}
	body := []byte("x")
	ts := time.Now()
	good := signature.SignV1a(k, "msg", ts, body)
	junk := signature.SignV1a(newSigningKey(t), "msg", ts, body)
	cases := []struct {
		name   string
		header string
		ok     bool
	}{
		{"after 3 v1a", strings.Repeat(junk+" ", 3) + good, true},
		{"after 4 v1a", strings.Repeat(junk+" ", 4) + good, false},
		{"after 15 others", strings.Repeat("v1,AAAA ", 15) + good, true},
		{"after 16 others", strings.Repeat("v1,AAAA ", 16) + good, false},
		{"after 1000 others", strings.Repeat("v2,AAAA ", 1000) + good, false},
		{"after short v1a", strings.Repeat("v1a,AAAA ", 10) + good, true},
	}
	for _, c := range cases {
		h := v1aHeader(nil, "msg", ts, body)
		h.Set(signature.HeaderSignature, c.header)
		err := v.Verify(h, body)
		if c.ok && err != nil {
			t.Errorf("%s: Verify() = %v, want nil", c.name, err)
		}
		if !c.ok && !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("%s: Verify() = %v, want ErrInvalidSignature", c.name, err)
		}
	}
}

func TestMixedHeader(t *testing.T) {
	s, k := newSecret(t), newSigningKey(t)
	body := []byte(`{"type":"contact.created"}`)
	ts := time.Now()
	hdr := signature.SignHeader([]signature.Secret{s}, []signature.SigningKey{k}, "msg_mix", ts, body)
	if want := signature.Sign(s, "msg_mix", ts, body) + " " + signature.SignV1a(k, "msg_mix", ts, body); hdr != want {
		t.Fatalf("SignHeader() = %q, want %q", hdr, want)
	}
	h := v1aHeader(nil, "msg_mix", ts, body)
	h.Set(signature.HeaderSignature, hdr)
	for name, v := range map[string]signature.Verifier{
		"secret only":             {Secrets: []signature.Secret{s}},
		"public key only":         {PublicKeys: pubs(k)},
		"both":                    {Secrets: []signature.Secret{s}, PublicKeys: pubs(k)},
		"wrong secret, right key": {Secrets: []signature.Secret{newSecret(t)}, PublicKeys: pubs(k)},
		"right secret, wrong key": {Secrets: []signature.Secret{s}, PublicKeys: pubs(newSigningKey(t))},
		"zero keys skipped":       {Secrets: []signature.Secret{{}}, PublicKeys: []signature.PublicKey{{}, k.Public()}},
	} {
		if err := v.Verify(h, body); err != nil {
			t.Errorf("%s: Verify(mixed header) = %v", name, err)
		}
		if err := v.Verify(h, append([]byte{}, body[1:]...)); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("%s: Verify(mixed header, tampered) = %v, want ErrInvalidSignature", name, err)
		}
	}
	wrong := signature.Verifier{Secrets: []signature.Secret{newSecret(t)}, PublicKeys: pubs(newSigningKey(t))}
	if err := wrong.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("wrong secret and key: Verify() = %v, want ErrInvalidSignature", err)
	}
	// Without signing keys SignHeader is SignAll; zero secrets and keys are skipped.
	if got, want := signature.SignHeader([]signature.Secret{s, {}}, []signature.SigningKey{{}}, "id", ts, nil), signature.SignAll([]signature.Secret{s}, "id", ts, nil); got != want {
		t.Errorf("SignHeader(s, zero key) = %q, want SignAll() = %q", got, want)
	}
	if got := signature.SignHeader(nil, nil, "id", ts, nil); got != "" {
		t.Errorf("SignHeader(nil, nil) = %q, want empty", got)
	}
	if got := signature.SignV1a(signature.SigningKey{}, "id", ts, nil); got != "" {
		t.Errorf("SignV1a(zero) = %q, want empty", got)
	}
	if got := signature.AppendSignV1a([]byte("x"), signature.SigningKey{}, "id", ts, nil); string(got) != "x" {
		t.Errorf("AppendSignV1a(zero) = %q, want %q", got, "x")
	}
}

func TestVerifierNoKeys(t *testing.T) {
	k := newSigningKey(t)
	body := []byte("x")
	h := v1aHeader([]signature.SigningKey{k}, "msg", time.Now(), body)
	for name, v := range map[string]*signature.Verifier{
		"nil":  {},
		"zero": {Secrets: []signature.Secret{{}}, PublicKeys: []signature.PublicKey{{}}},
	} {
		if err := v.Verify(h, body); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Errorf("%s keys: Verify() = %v, want ErrInvalidSignature", name, err)
		}
	}
}

func TestParseSigningKey(t *testing.T) {
	seed := []byte(specV1aSeed)
	priv := ed25519.NewKeyFromSeed(seed)
	want := "whsk_" + base64.StdEncoding.EncodeToString(seed)
	for _, in := range []string{
		want,
		strings.TrimRight(want, "="),
		" \t" + want + "\n",
		"whsk_" + base64.StdEncoding.EncodeToString(priv), // crypto/ed25519's 64-byte form
	} {
		k, err := signature.ParseSigningKey(in)
		if err != nil {
			t.Errorf("ParseSigningKey(%q) = %v", in, err)
			continue
		}
		if k.IsZero() || k.Reveal() != want || k.Public().String() != specV1aPublic {
			t.Errorf("ParseSigningKey(%q) = %q, public %q", in, k.Reveal(), k.Public())
		}
	}
	mismatched := append(append([]byte{}, seed...), make([]byte, 32)...)
	for _, in := range []string{
		"", " ", "whsk_", "whsk_==",
		base64.StdEncoding.EncodeToString(seed),            // no prefix
		"whsec_" + base64.StdEncoding.EncodeToString(seed), // a v1 secret
		"whpk_" + base64.StdEncoding.EncodeToString(seed),  // a public key
		"WHSK_" + base64.StdEncoding.EncodeToString(seed),
		"whsk_" + base64.StdEncoding.EncodeToString(seed[:31]),
		"whsk_" + base64.StdEncoding.EncodeToString(append(seed, 0)),
		"whsk_" + base64.StdEncoding.EncodeToString(mismatched),
		"whsk_" + base64.URLEncoding.EncodeToString(priv),
		"whsk_" + "not base64!",
	} {
		k, err := signature.ParseSigningKey(in)
		if err == nil {
			t.Errorf("ParseSigningKey(%q) = nil error", in)
			continue
		}
		if !k.IsZero() {
			t.Errorf("ParseSigningKey(%q) failed but returned a key", in)
		}
		for _, leak := range []string{"VEVTVFNJ", "TESTSIGN"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("ParseSigningKey error %q contains the key", err)
			}
		}
	}
	// ParseSecret points at the right parser.
	if _, err := signature.ParseSecret(specV1aKey); err == nil || !strings.Contains(err.Error(), "ParseSigningKey") || strings.Contains(err.Error(), "VEVTVFNJ") {
		t.Errorf("ParseSecret(whsk_...) = %v", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	p, err := signature.ParsePublicKey(specV1aPublic)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{strings.TrimRight(specV1aPublic, "="), "  " + specV1aPublic + "\r\n"} {
		q, err := signature.ParsePublicKey(in)
		if err != nil || q != p {
			t.Errorf("ParsePublicKey(%q) = %v, %v; want %v", in, q, err, p)
		}
	}
	if p.IsZero() || p.String() != specV1aPublic || fmt.Sprint(p) != specV1aPublic {
		t.Errorf("ParsePublicKey().String() = %q, want %q", p, specV1aPublic)
	}
	b := p.Bytes()
	b[0] ^= 1 // a copy
	if p.String() != specV1aPublic {
		t.Error("Bytes() aliases the key")
	}
	j, err := json.Marshal(struct{ K signature.PublicKey }{p})
	if err != nil || string(j) != `{"K":"`+specV1aPublic+`"}` {
		t.Errorf("json.Marshal(PublicKey) = %s, %v", j, err)
	}
	var back struct{ K signature.PublicKey }
	if err := json.Unmarshal(j, &back); err != nil || back.K != p {
		t.Errorf("json.Unmarshal(PublicKey) = %v, %v", back.K, err)
	}
	var z signature.PublicKey
	if !z.IsZero() || z.String() != "" || z.Bytes() != nil {
		t.Errorf("zero PublicKey: IsZero %v, String %q, Bytes %v", z.IsZero(), z.String(), z.Bytes())
	}
	if (signature.SigningKey{}).Public() != z {
		t.Error("zero SigningKey: Public() is not the zero PublicKey")
	}
	for _, in := range []string{"", "whpk_", specV1aKey, "whsec_" + strings.TrimPrefix(specV1aPublic, "whpk_"),
		"whpk_" + base64.StdEncoding.EncodeToString(make([]byte, 31)), "whpk_" + base64.StdEncoding.EncodeToString(make([]byte, 64)), "whpk_!"} {
		if q, err := signature.ParsePublicKey(in); err == nil || !q.IsZero() {
			t.Errorf("ParsePublicKey(%q) = %v, %v; want an error", in, q, err)
		}
	}
}

func TestNewSigningKey(t *testing.T) {
	a, b := newSigningKey(t), newSigningKey(t)
	if a.IsZero() || b.IsZero() || a.Reveal() == b.Reveal() || a.Public() == b.Public() {
		t.Fatal("NewSigningKey gave zero or equal keys")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.Reveal(), "whsk_"))
	if err != nil || len(raw) != ed25519.SeedSize {
		t.Fatalf("NewSigningKey().Reveal() = %d bytes, %v; want 32 bytes", len(raw), err)
	}
	again := mustSigningKey(t, a.Reveal())
	ts := time.Unix(1700000000, 0)
	if again.Public() != a.Public() || signature.SignV1a(a, "id", ts, []byte("b")) != signature.SignV1a(again, "id", ts, []byte("b")) {
		t.Error("a key and its parsed Reveal differ")
	}
	var z signature.SigningKey
	if !z.IsZero() || z.Reveal() != "" {
		t.Errorf("zero SigningKey: IsZero %v, Reveal %q", z.IsZero(), z.Reveal())
	}
}

// TestSigningKeyNeverLeaks formats, marshals and logs a signing key every way we
// can think of, and fails on any output or error text holding the key.
func TestSigningKeyNeverLeaks(t *testing.T) {
	k := newSigningKey(t)
	b64 := strings.TrimPrefix(k.Reveal(), "whsk_")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	priv := ed25519.NewKeyFromSeed(raw)
	type config struct {
		URL  string                 `json:"url"`
		Key  signature.SigningKey   `json:"key"`
		Ptr  *signature.SigningKey  `json:"ptr"`
		All  []signature.SigningKey `json:"all"`
		priv signature.SigningKey
	}
	cfg := config{URL: "https://example.com", Key: k, Ptr: &k, All: []signature.SigningKey{k, k}, priv: k}

	var outputs []string
	add := func(format string, args ...any) { outputs = append(outputs, fmt.Sprintf(format, args...)) }
	add("%v %+v %s", k, k, k)
	add("%#v %q %x %X %d %10.3s %T", k, k, k, k, k, k, k)
	add("%v %+v %#v %v", &k, &k, cfg, cfg)
	add("%v %+v %#v", []any{k, &k, cfg, &cfg}, []any{k, &k, cfg, &cfg}, []any{k, &k, cfg, &cfg})
	outputs = append(outputs, k.String(), k.GoString(), fmt.Sprint(k), fmt.Sprintln(k, cfg))
	for _, v := range []any{k, &k, cfg, &cfg, map[string]signature.SigningKey{"k": k}} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		outputs = append(outputs, string(j))
	}
	mt, _ := k.MarshalText()
	outputs = append(outputs, string(mt))
	var logged strings.Builder
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("webhook", "key", k, "cfg", cfg)
	}
	outputs = append(outputs, logged.String())
	// Errors from parsing near misses of it.
	for _, bad := range []string{b64, "whsk_" + b64 + "!", "whsk_" + b64[:len(b64)-2] + "*=", "whsk_" + b64 + "AAAA"} {
		if _, err := signature.ParseSigningKey(bad); err != nil {
			outputs = append(outputs, err.Error())
		} else {
			t.Errorf("ParseSigningKey(near miss %d) succeeded", len(bad))
		}
	}
	var into signature.SigningKey
	if err := json.Unmarshal([]byte(`"whsk_`+b64[:20]+`"`), &into); err != nil {
		outputs = append(outputs, err.Error())
	}

	hexSeed := fmt.Sprintf("%x", raw)
	for _, out := range outputs {
		if strings.Contains(out, b64[:12]) || strings.Contains(out, hexSeed[:16]) || strings.Contains(out, string(priv[:8])) {
			t.Errorf("signing key leaked: %q", out)
		}
	}
	if outputs[0] != "[redacted] [redacted] [redacted]" {
		t.Errorf("fmt output %q, want [redacted]", outputs[0])
	}

	// The key still round-trips where it is meant to: Reveal, and UnmarshalText.
	var cfgIn struct {
		Key signature.SigningKey `json:"key"`
	}
	if err := json.Unmarshal([]byte(`{"key":"`+k.Reveal()+`"}`), &cfgIn); err != nil || cfgIn.Key.Public() != k.Public() {
		t.Errorf("json.Unmarshal(whsk_...) = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"key":""}`), &cfgIn); err != nil || !cfgIn.Key.IsZero() {
		t.Errorf("json.Unmarshal(empty key) = %v, zero %v", err, cfgIn.Key.IsZero())
	}
}

// TestV1aConcurrent shares keys and a Verifier between goroutines; run with -race.
func TestV1aConcurrent(t *testing.T) {
	s, a, b := newSecret(t), newSigningKey(t), newSigningKey(t)
	v := signature.Verifier{Secrets: []signature.Secret{s}, PublicKeys: pubs(a, b)}
	hammer(t, &v, 100, func(i int, id string, ts time.Time, body []byte) http.Header {
		h := v1aHeader(nil, id, ts, body)
		h.Set(signature.HeaderSignature, signature.SignHeader(nil, []signature.SigningKey{[]signature.SigningKey{a, b}[i%2]}, id, ts, body))
		return h
	})
}

// TestDerive: a derived key is the same for the same key and name, differs
// by name and from its parent, signs what its own public key verifies, and
// the zero key derives nothing.
func TestDerive(t *testing.T) {
	k, err := signature.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	a, a2, b := k.Derive("account:a"), k.Derive("account:a"), k.Derive("account:b")
	if a.Public() != a2.Public() || a.Reveal() != a2.Reveal() {
		t.Error("the same name derived two keys")
	}
	if a.Public() == b.Public() || a.Public() == k.Public() || b.Public() == k.Public() {
		t.Error("derived keys are not apart from each other and their parent")
	}
	if other, _ := signature.NewSigningKey(); other.Derive("account:a").Public() == a.Public() {
		t.Error("two parents derived the same key for a name")
	}
	if !(signature.SigningKey{}).Derive("account:a").IsZero() {
		t.Error("the zero key derived a key")
	}
}
