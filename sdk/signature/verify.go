package signature

import (
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a request's timestamp may be from the receiver's
// clock, either way, when [Verifier.Tolerance] is zero.
const DefaultTolerance = 5 * time.Minute

// maxSignatures bounds how many space-separated signatures Verify looks at, so a
// huge header costs a bounded amount of work. Rotation needs two.
const maxSignatures = 16

// Errors of [Verifier.Verify], matched with [errors.Is]. The errors returned wrap
// one of them and add detail, never a secret and never the header values.
var (
	// ErrMissingHeaders: webhook-id, webhook-timestamp or webhook-signature is absent or empty.
	ErrMissingHeaders = errors.New("signature: missing webhook headers")
	// ErrInvalidSignature: no signature matches any secret or public key, or the
	// timestamp header is not a Unix time in decimal, or there is no secret or
	// public key to check with.
	ErrInvalidSignature = errors.New("signature: invalid signature")
	// ErrTimestampTooOld: the timestamp is older than the tolerance.
	ErrTimestampTooOld = errors.New("signature: timestamp too old")
	// ErrTimestampTooNew: the timestamp is further ahead than the tolerance.
	ErrTimestampTooNew = errors.New("signature: timestamp too new")
)

// A Verifier checks received requests. Its zero Tolerance means [DefaultTolerance]
// and its nil Now means [time.Now]. A Verifier is safe for concurrent use as long
// as its fields aren't changed.
type Verifier struct {
	// Secrets the request may be signed with; during a rotation, the new and the
	// old one. Zero secrets are skipped.
	Secrets []Secret
	// PublicKeys that verify "v1a,..." (ed25519) signatures; during a rotation,
	// the new and the old one. Zero keys are skipped. Trust only keys from the
	// hub itself (configuration or its JWKS), never keys sent with a request.
	PublicKeys []PublicKey
	// Tolerance is how far the timestamp may be from Now, either way.
	Tolerance time.Duration
	// Now returns the current time; tests set it.
	Now func() time.Time
}

// Verify checks the webhook headers of h against body, the raw request body as
// received. It passes when the timestamp is within the tolerance and any of the
// space-separated "v1,..." signatures matches any secret (compared in constant
// time), or any "v1a,..." signature verifies under any public key (ed25519).
// Signatures of other versions, and v1a signatures that are not canonical
// standard base64 of 64 bytes, are ignored; only the first 16 signatures are
// looked at, and of those only the first 4 v1a ones are verified. Several
// webhook-signature header lines are treated as one space-separated list.
//
// # Errors
//
// The error wraps [ErrMissingHeaders], [ErrInvalidSignature],
// [ErrTimestampTooOld] or [ErrTimestampTooNew].
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id := header(h, canonID, HeaderID)
	tsText := header(h, canonTimestamp, HeaderTimestamp)
	sigs := headerValues(h, canonSignature, HeaderSignature)
	if id == "" || tsText == "" || blank(sigs) {
		return fmt.Errorf("%w: need %s, %s and %s", ErrMissingHeaders, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	ts, ok := parseTimestamp(tsText)
	if !ok {
		return fmt.Errorf("%w: %s is not Unix seconds in decimal", ErrInvalidSignature, HeaderTimestamp)
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	nowSec := now().Unix()
	tolSec := int64(tol / time.Second)
	// Compare in seconds and without overflow: ts is attacker-chosen.
	switch {
	case ts < nowSec && uint64(nowSec)-uint64(ts) > uint64(tolSec):
		return fmt.Errorf("%w: more than %s behind the receiver's clock", ErrTimestampTooOld, tol)
	case ts > nowSec && uint64(ts)-uint64(nowSec) > uint64(tolSec):
		return fmt.Errorf("%w: more than %s ahead of the receiver's clock", ErrTimestampTooNew, tol)
	}

	var want [64]byte // one expected "v1,<base64>" at a time
	checked := false
	for _, s := range v.Secrets {
		if s.k == nil {
			continue
		}
		checked = true
		sg := s.k.get()
		exp := append(want[:0], versionV1...)
		exp = sg.appendMAC(exp, id, ts, body)
		s.k.put(sg)
		if anyMatch(sigs, exp) {
			return nil
		}
	}
	if v.anyPublicKey() {
		checked = true
		if v.verifyV1a(sigs, id, ts, body) {
			return nil
		}
	}
	if !checked {
		return fmt.Errorf("%w: no secret or public key to verify with", ErrInvalidSignature)
	}
	return fmt.Errorf("%w: no %s matches", ErrInvalidSignature, HeaderSignature)
}

// Verify checks h and body against one secret with the default tolerance.
// See [Verifier.Verify].
func Verify(s Secret, h http.Header, body []byte) error {
	v := Verifier{Secrets: []Secret{s}}
	return v.Verify(h, body)
}

// tokens yields the first maxSignatures space-separated signatures of the
// webhook-signature header lines in sigs.
func tokens(sigs []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		n := 0
		for _, line := range sigs {
			for tok := range strings.SplitSeq(line, " ") {
				if tok == "" {
					continue
				}
				if n++; n > maxSignatures || !yield(tok) {
					return
				}
			}
		}
	}
}

// anyMatch reports whether one of the first maxSignatures space-separated
// signatures in sigs equals want, in constant time for each candidate of want's length.
func anyMatch(sigs []string, want []byte) bool {
	for tok := range tokens(sigs) {
		if len(tok) == len(want) && subtle.ConstantTimeCompare([]byte(tok), want) == 1 {
			return true
		}
	}
	return false
}

func (v *Verifier) anyPublicKey() bool {
	for _, p := range v.PublicKeys {
		if p.set {
			return true
		}
	}
	return false
}

// verifyV1a reports whether one of the first maxV1aSignatures "v1a," signatures
// among the first maxSignatures signatures in sigs verifies under any of the
// public keys. The signed content is built once, on the first candidate.
func (v *Verifier) verifyV1a(sigs []string, id string, ts int64, body []byte) bool {
	var mp *[]byte
	defer func() {
		if mp != nil {
			putMsg(mp)
		}
	}()
	var src [v1aB64Len]byte
	var sig [ed25519.SignatureSize + 2]byte // base64 decoding may want room for padding
	tried := 0
	for tok := range tokens(sigs) {
		b64, ok := strings.CutPrefix(tok, versionV1a)
		if !ok || len(b64) != v1aB64Len {
			continue
		}
		if tried++; tried > maxV1aSignatures {
			return false
		}
		copy(src[:], b64)
		if m, err := strictB64.Decode(sig[:], src[:]); err != nil || m != ed25519.SignatureSize {
			continue
		}
		if mp == nil {
			mp = getMsg()
			*mp = appendSignedContent((*mp)[:0], id, ts, body)
		}
		for _, p := range v.PublicKeys {
			if p.set && ed25519.Verify(p.raw[:], *mp, sig[:ed25519.SignatureSize]) {
				return true
			}
		}
	}
	return false
}

// parseTimestamp accepts Unix seconds in canonical decimal: digits, no sign,
// no leading zero, so the signed text and the parsed value can't disagree.
func parseTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	return ts, err == nil
}

func blank(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// Canonical forms of the header names, as net/http stores them.
const (
	canonID        = "Webhook-Id"
	canonTimestamp = "Webhook-Timestamp"
	canonSignature = "Webhook-Signature"
)

// header returns the first value of a header, found case-insensitively, so a
// header map built by hand with lower-case keys works too.
func header(h http.Header, canon, key string) string {
	if v := headerValues(h, canon, key); len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

func headerValues(h http.Header, canon, key string) []string {
	if v := h[canon]; len(v) > 0 {
		return v
	}
	if v := h[key]; len(v) > 0 {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}
