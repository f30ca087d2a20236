package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// SecretPrefix starts the text form of every [Secret].
const SecretPrefix = "whsec_"

// newSecretSize is the key size of [NewSecret], in bytes.
const newSecretSize = 32

const redacted = "[redacted]"

// kind says what a key is for. A Secret only holds symmetric HMAC-SHA256 (v1)
// keys; asymmetric (v1a) keys are a type of their own, [SigningKey].
type kind uint8

const kindHMAC kind = 1

// Secret is a signing secret. Its zero value is no secret (see [Secret.IsZero]).
//
// String, GoString, Format, MarshalJSON and MarshalText never reveal the key: they
// print "[redacted]", so a Secret can't leak into logs or API responses.
// [Secret.Reveal] is the only way out.
//
// A Secret is cheap to copy and safe for concurrent use. Parse it once and keep it:
// it caches HMAC state, so signing with a kept Secret allocates less.
type Secret struct {
	k *key
}

type key struct {
	raw  []byte
	kind kind
	pool sync.Pool // of *signer
}

// signer is the pooled, keyed state of one signing or verification.
type signer struct {
	mac hash.Hash
	buf []byte // scratch: id.timestamp. prefix, then the MAC sum
}

func newKey(raw []byte) *key {
	k := &key{raw: raw, kind: kindHMAC}
	k.pool.New = func() any {
		return &signer{mac: hmac.New(sha256.New, k.raw), buf: make([]byte, 0, 128)}
	}
	return k
}

func (k *key) get() *signer { return k.pool.Get().(*signer) }

func (k *key) put(s *signer) {
	s.mac.Reset()
	if cap(s.buf) > 4096 { // don't keep a huge id's buffer forever
		s.buf = make([]byte, 0, 128)
	}
	k.pool.Put(s)
}

// ParseSecret parses "whsec_<base64>", the key in standard base64 with or without
// padding. Leading and trailing white space is ignored.
//
// # Errors
//
// The error says what is wrong and never contains the secret text.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Secret{}, errors.New("signature: empty secret")
	}
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		if strings.HasPrefix(s, SigningKeyPrefix) || strings.HasPrefix(s, PublicKeyPrefix) {
			return Secret{}, fmt.Errorf("signature: secret must start with %q; %q and %q keys are ed25519 (v1a) keys: see ParseSigningKey and ParsePublicKey",
				SecretPrefix, SigningKeyPrefix, PublicKeyPrefix)
		}
		return Secret{}, fmt.Errorf("signature: secret must start with %q", SecretPrefix)
	}
	b64 = strings.TrimRight(b64, "=")
	if b64 == "" {
		return Secret{}, fmt.Errorf("signature: secret has no key after %q", SecretPrefix)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		// Not %w: base64.CorruptInputError is only an offset, but say nothing of the text.
		return Secret{}, fmt.Errorf("signature: secret after %q is not standard base64", SecretPrefix)
	}
	return Secret{k: newKey(raw)}, nil
}

// NewSecret returns a new random secret of 32 bytes.
func NewSecret() (Secret, error) {
	raw := make([]byte, newSecretSize)
	if _, err := rand.Read(raw); err != nil {
		return Secret{}, fmt.Errorf("signature: new secret: %w", err)
	}
	return Secret{k: newKey(raw)}, nil
}

// Reveal returns the secret in its "whsec_<base64>" form (padded standard base64).
// It is the only way to get the key out of a Secret. Reveal of the zero Secret is "".
func (s Secret) Reveal() string {
	if s.k == nil {
		return ""
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(s.k.raw)
}

// IsZero reports whether s holds no key.
func (s Secret) IsZero() bool { return s.k == nil }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb and flag, so %v, %+v, %#v, %s, %q and
// %x reveal nothing.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON returns "[redacted]" as a JSON string. A Secret doesn't round-trip
// through JSON by design: store [Secret.Reveal] explicitly where you mean to.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText parses text with [ParseSecret], so a Secret can be a field of a
// config decoded from JSON or the environment. Empty text leaves the zero Secret.
func (s *Secret) UnmarshalText(text []byte) error {
	return parseText(s, text, ParseSecret)
}

// parseText sets *dst from text with parse, for the UnmarshalText methods:
// empty text leaves the zero value.
func parseText[T any](dst *T, text []byte, parse func(string) (T, error)) error {
	if len(text) == 0 {
		var zero T
		*dst = zero
		return nil
	}
	v, err := parse(string(text))
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
