package signature_test

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

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
