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

// FuzzVerify feeds arbitrary header values and bodies to Verify. It must never
// panic, must fail only with one of the package's sentinels, must pass only when a
// correct signature is in the header, and must pass a request correctly signed
// over the fuzzed id and body. Seeds are in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	const spec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secret := mustParse(f, spec)
	now := time.Unix(1614265330, 0)
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("", "", "", []byte(nil))

	sentinels := []error{signature.ErrMissingHeaders, signature.ErrInvalidSignature,
		signature.ErrTimestampTooOld, signature.ErrTimestampTooNew}
	v := signature.Verifier{Secrets: []signature.Secret{secret}, Now: func() time.Time { return now }}

	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{
			"Webhook-Id":        {id},
			"Webhook-Timestamp": {ts},
			"Webhook-Signature": {sig},
		}
		err := v.Verify(h, body)
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("Verify() = %v, not one of the sentinels", err)
			}
		} else {
			sec, perr := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if perr != nil {
				t.Fatalf("Verify passed with timestamp %q: %v", ts, perr)
			}
			want := signature.Sign(secret, strings.TrimSpace(id), time.Unix(sec, 0), body)
			if !strings.Contains(sig, want) {
				t.Fatalf("Verify passed, but %q does not hold %q", sig, want)
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
	})
}
