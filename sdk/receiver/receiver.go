// Package receiver is the receiving end of a hookhub webhook in Go: an
// http.Handler that verifies the Standard Webhooks signature, decodes the
// payload and hands it to your function.
//
//	secret, _ := signature.ParseSecret(os.Getenv("WEBHOOK_SECRET"))
//	http.Handle("/webhooks", receiver.Handler(&signature.Verifier{Secrets: []signature.Secret{secret}},
//		func(d receiver.Delivery) error { log.Println(d.Payload.Type); return nil }))
package receiver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

// MaxBody is the largest body the handler reads.
const MaxBody = 8 << 20

// Payload is the default hookhub request body (without a plugin).
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Account   string          `json:"account"`
	Initiator string          `json:"initiator,omitempty"`
	Data      json.RawMessage `json:"data"`
}

// Delivery is one verified request.
type Delivery struct {
	ID      string      // webhook-id: the same on every retry, use it to de-duplicate
	Headers http.Header // as received
	Body    []byte      // as received, and as signed
	// Payload is the decoded body when it is JSON in the default shape.
	Payload Payload
}

// Handler verifies each request with v and calls fn with it. It answers 401
// to a bad signature, 413 to a body over MaxBody, 500 when fn fails (so the
// hub retries) and 204 otherwise.
func Handler(v *signature.Verifier, fn func(Delivery) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		d := Delivery{ID: r.Header.Get(signature.HeaderID), Headers: r.Header, Body: body}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(body, &d.Payload) // a plugin may send another shape
		}
		if err := fn(d); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
