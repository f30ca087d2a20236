package signature

import (
	"encoding/base64"
	"strconv"
	"time"
)

// Header names of a signed request, lower case as the specification writes them.
// [net/http.Header] methods canonicalize them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// versionV1 prefixes an HMAC-SHA256 signature.
const versionV1 = "v1,"

// sigLen is the length of one "v1,<base64>" signature.
var sigLen = len(versionV1) + base64.StdEncoding.EncodedLen(32)

// Sign returns "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>",
// the timestamp being ts in Unix seconds. Put the same id and ts.Unix() in the
// [HeaderID] and [HeaderTimestamp] headers. Sign of the zero Secret is "".
func Sign(s Secret, id string, ts time.Time, body []byte) string {
	var buf [64]byte
	return string(AppendSign(buf[:0], s, id, ts, body))
}

// AppendSign appends the signature [Sign] returns to dst and returns the extended
// buffer. With a kept Secret and a dst of spare capacity it doesn't allocate.
// It appends nothing for the zero Secret.
func AppendSign(dst []byte, s Secret, id string, ts time.Time, body []byte) []byte {
	if s.k == nil {
		return dst
	}
	sg := s.k.get()
	dst = append(dst, versionV1...)
	dst = sg.appendMAC(dst, id, ts.Unix(), body)
	s.k.put(sg)
	return dst
}

// SignAll signs with each secret, in order, and joins the signatures with one space:
// the header value while a secret is rotated (new and old). Zero secrets are skipped.
func SignAll(secrets []Secret, id string, ts time.Time, body []byte) string {
	return SignHeader(secrets, nil, id, ts, body)
}

// appendMAC appends the base64 HMAC of id.ts.body to dst. sg.mac must be reset.
func (sg *signer) appendMAC(dst []byte, id string, ts int64, body []byte) []byte {
	b := append(sg.buf[:0], id...)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	sg.mac.Write(b)
	sg.mac.Write(body)
	b = sg.mac.Sum(b[:0])
	dst = base64.StdEncoding.AppendEncode(dst, b)
	sg.buf = b[:0]
	return dst
}
