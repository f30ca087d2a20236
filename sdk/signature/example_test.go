package signature_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

// A receiver checks each request with the secret it got from the hub, reading the
// raw body before any JSON decoding.
func ExampleVerify() {
	secret, err := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if err := signature.Verify(secret, r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent) // verified: handle the event
	})

	// What the hub sends.
	body := []byte(`{"type":"contact.updated","timestamp":"2026-11-22T10:00:00Z","data":{}}`)
	now := time.Now()
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set(signature.HeaderID, "msg_2f9c")
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, signature.Sign(secret, "msg_2f9c", now, body))

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	// The same request with its body changed on the way.
	tampered := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(append(body, ' ')))
	tampered.Header = req.Header.Clone()
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, tampered)
	fmt.Println(rec.Code)
	// Output:
	// 204
	// 401
}

// A Verifier holds every secret that is valid while one is rotated, and checks
// with a fixed clock here so the output is stable.
func ExampleVerifier() {
	oldSecret, _ := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	newSecret, _ := signature.NewSecret()

	id, ts, body := "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(signature.HeaderSignature, signature.Sign(oldSecret, id, ts, body))
	fmt.Println(h.Get(signature.HeaderSignature))

	v := signature.Verifier{
		Secrets: []signature.Secret{newSecret, oldSecret},
		Now:     func() time.Time { return ts.Add(time.Minute) },
	}
	fmt.Println(v.Verify(h, body))

	v.Now = func() time.Time { return ts.Add(time.Hour) }
	fmt.Println(v.Verify(h, body))
	fmt.Println(oldSecret)
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// signature: timestamp too old: more than 5m0s behind the receiver's clock
	// [redacted]
}
