package signature_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

// FuzzVerify feeds arbitrary header values and bodies to Verify, with a secret
// (v1), a public key (v1a) and both. It must never panic, must fail only with one
// of the package's sentinels, must pass only when a correct signature is in the
// header, and must pass a request correctly signed over the fuzzed id and body.
// Seeds are in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	const spec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secret := mustParse(f, spec)
	key := mustSigningKey(f, specV1aKey)
	now := time.Unix(1614265330, 0)
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("", "", "", []byte(nil))
	f.Add(specV1aID, itoa(specV1aTS), specV1aWant, []byte(specV1aBody))
	f.Add(specV1aID, itoa(specV1aTS), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "+specV1aWant, []byte(specV1aBody))
	f.Add(specV1aID, itoa(specV1aTS), "v1a, v1a,AAAA v1a,"+strings.Repeat("A", 86)+"== v1a,"+specV1aWant[4:90]+"\n=", []byte(specV1aBody))

	sentinels := []error{signature.ErrMissingHeaders, signature.ErrInvalidSignature,
		signature.ErrTimestampTooOld, signature.ErrTimestampTooNew}
	clock := func() time.Time { return now }
	v := signature.Verifier{Secrets: []signature.Secret{secret}, Now: clock}
	vPub := signature.Verifier{PublicKeys: []signature.PublicKey{key.Public()}, Now: clock}
	vBoth := signature.Verifier{Secrets: []signature.Secret{secret}, PublicKeys: []signature.PublicKey{{}, key.Public()}, Now: clock}

	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{
			"Webhook-Id":        {id},
			"Webhook-Timestamp": {ts},
			"Webhook-Signature": {sig},
		}
		for _, c := range []struct {
			name   string
			v      *signature.Verifier
			v1, v2 bool // may pass on a v1, a v1a signature
		}{{"secret", &v, true, false}, {"public key", &vPub, false, true}, {"both", &vBoth, true, true}} {
			err := c.v.Verify(h, body)
			if err != nil {
				known := false
				for _, s := range sentinels {
					known = known || errors.Is(err, s)
				}
				if !known {
					t.Fatalf("%s: Verify() = %v, not one of the sentinels", c.name, err)
				}
				continue
			}
			sec, perr := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if perr != nil {
				t.Fatalf("%s: Verify passed with timestamp %q: %v", c.name, ts, perr)
			}
			tm := time.Unix(sec, 0)
			want := signature.Sign(secret, strings.TrimSpace(id), tm, body)
			wantV1a := signature.SignV1a(key, strings.TrimSpace(id), tm, body)
			if !(c.v1 && strings.Contains(sig, want)) && !(c.v2 && strings.Contains(sig, wantV1a)) {
				t.Fatalf("%s: Verify passed, but %q holds neither %q nor %q", c.name, sig, want, wantV1a)
			}
		}

		// A correctly signed request with the fuzzed id, body and extra signatures passes.
		id = strings.TrimSpace(id)
		if id == "" {
			return
		}
		good := signature.Sign(secret, id, now, body)
		h = http.Header{
			"Webhook-Id":        {id},
			"Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)},
			"Webhook-Signature": {good + " " + sig},
		}
		if err := v.Verify(h, body); err != nil {
			t.Fatalf("Verify(correctly signed %q) = %v", id, err)
		}
		goodV1a := signature.SignV1a(key, id, now, body)
		h.Set("Webhook-Signature", goodV1a+" "+sig)
		for _, vr := range []*signature.Verifier{&vPub, &vBoth} {
			if err := vr.Verify(h, body); err != nil {
				t.Fatalf("Verify(correctly v1a-signed %q) = %v", id, err)
			}
		}
		h.Set("Webhook-Signature", sig+" "+good+" "+goodV1a)
		if err := vBoth.Verify(h, body); err != nil && !errors.Is(err, signature.ErrInvalidSignature) {
			t.Fatalf("Verify(%q + good signatures) = %v", sig, err)
		}
	})
}
