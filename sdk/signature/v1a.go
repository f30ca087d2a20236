package signature

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Text prefixes of the asymmetric (v1a, ed25519) keys, as the specification
// writes them.
const (
	// SigningKeyPrefix starts the text form of every [SigningKey].
	SigningKeyPrefix = "whsk_"
	// PublicKeyPrefix starts the text form of every [PublicKey].
	PublicKeyPrefix = "whpk_"
)

// versionV1a prefixes an ed25519 signature.
const versionV1a = "v1a,"

// v1aB64Len is the length of the padded standard base64 form of an ed25519
// signature: 88.
const v1aB64Len = (ed25519.SignatureSize + 2) / 3 * 4

// sigLenV1a is the length of one "v1a,<base64>" signature.
const sigLenV1a = len(versionV1a) + v1aB64Len

// maxV1aSignatures bounds how many "v1a," signatures Verify checks against its
// public keys. Unlike HMAC, where one MAC per secret is compared with every
// candidate, each candidate costs one ed25519 verification per key, each hashing
// the whole body. Rotation needs two.
const maxV1aSignatures = 4

// strictB64 decodes only the canonical standard base64 form, so that one
// signature has one accepted spelling.
var strictB64 = base64.StdEncoding.Strict()

// SigningKey is an ed25519 private key that signs v1a signatures. Its zero value
// is no key (see [SigningKey.IsZero]).
//
// Like a [Secret], a SigningKey never reveals its key through String, GoString,
// Format, MarshalJSON or MarshalText: they print "[redacted]".
// [SigningKey.Reveal] is the only way out; [SigningKey.Public] gives the public
// key, which may be shown to anyone.
//
// A SigningKey is cheap to copy and safe for concurrent use.
type SigningKey struct {
	k *edKey
}

type edKey struct {
	priv ed25519.PrivateKey // seed || public key
	pub  PublicKey
}

func newEdKey(seed []byte) *edKey {
	priv := ed25519.NewKeyFromSeed(seed)
	k := &edKey{priv: priv}
	copy(k.pub.raw[:], priv[ed25519.SeedSize:])
	k.pub.set = true
	return k
}

// ParseSigningKey parses "whsk_<base64>": the 32-byte ed25519 seed, as the
// Standard Webhooks libraries write it, in standard base64 with or without
// padding. The 64-byte form of crypto/ed25519 (seed followed by public key) is
// accepted too, if its public half matches the seed. Leading and trailing white
// space is ignored.
//
// # Errors
//
// The error says what is wrong and never contains the key text.
func ParseSigningKey(s string) (SigningKey, error) {
	raw, err := parseKeyText(s, SigningKeyPrefix, "signing key")
	if err != nil {
		return SigningKey{}, err
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return SigningKey{k: newEdKey(raw)}, nil
	case ed25519.PrivateKeySize:
		k := newEdKey(raw[:ed25519.SeedSize])
		if !bytes.Equal(k.pub.raw[:], raw[ed25519.SeedSize:]) {
			return SigningKey{}, errors.New("signature: signing key's public half does not match its seed")
		}
		return SigningKey{k: k}, nil
	}
	return SigningKey{}, fmt.Errorf("signature: signing key is %d bytes, want %d (an ed25519 seed) or %d",
		len(raw), ed25519.SeedSize, ed25519.PrivateKeySize)
}

// NewSigningKey returns a new random ed25519 signing key.
func NewSigningKey() (SigningKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return SigningKey{}, fmt.Errorf("signature: new signing key: %w", err)
	}
	return SigningKey{k: newEdKey(seed)}, nil
}

// Reveal returns the key in its "whsk_<base64>" form: the 32-byte seed in padded
// standard base64. It is the only way to get the key out of a SigningKey.
// Reveal of the zero SigningKey is "".
func (k SigningKey) Reveal() string {
	if k.k == nil {
		return ""
	}
	return SigningKeyPrefix + base64.StdEncoding.EncodeToString(k.k.priv.Seed())
}

// Derive returns a key of its own for name, made from k's seed with
// HKDF-SHA256 (RFC 5869; the name is HKDF's info): the same k and name always
// give the same key, and from one derived key neither k nor another name's
// key can be found. A hub signing for many accounts with one configured key
// derives one per account, so that no account's requests verify with
// another's public keys. Derive of the zero SigningKey is the zero key.
func (k SigningKey) Derive(name string) SigningKey {
	if k.k == nil {
		return SigningKey{}
	}
	seed, err := hkdf.Key(sha256.New, k.k.priv.Seed(), []byte(deriveSalt), name, ed25519.SeedSize)
	if err != nil { // only for a length HKDF cannot give; 32 bytes it can
		panic("signature: derive: " + err.Error())
	}
	return SigningKey{k: newEdKey(seed)}
}

// deriveSalt is HKDF's salt in Derive.
const deriveSalt = "hookhub v1a derived signing key"

// Public returns the public key receivers verify with. Public of the zero
// SigningKey is the zero PublicKey.
func (k SigningKey) Public() PublicKey {
	if k.k == nil {
		return PublicKey{}
	}
	return k.k.pub
}

// IsZero reports whether k holds no key.
func (k SigningKey) IsZero() bool { return k.k == nil }

// String returns "[redacted]".
func (k SigningKey) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (k SigningKey) GoString() string { return redacted }

// Format prints "[redacted]" for every verb and flag.
func (k SigningKey) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON returns "[redacted]" as a JSON string. A SigningKey doesn't
// round-trip through JSON by design: store [SigningKey.Reveal] explicitly.
func (k SigningKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (k SigningKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText parses text with [ParseSigningKey]. Empty text leaves the zero
// SigningKey.
func (k *SigningKey) UnmarshalText(text []byte) error {
	return parseText(k, text, ParseSigningKey)
}

// PublicKey is an ed25519 public key that verifies v1a signatures. Its zero
// value is no key (see [PublicKey.IsZero]). Public keys are comparable with ==.
//
// A public key is not secret: String and MarshalText give its "whpk_<base64>"
// form, and [PublicKey.JWK] its JSON Web Key.
type PublicKey struct {
	raw [ed25519.PublicKeySize]byte
	set bool
}

// ParsePublicKey parses "whpk_<base64>", the 32-byte ed25519 public key in
// standard base64 with or without padding. Leading and trailing white space is
// ignored.
func ParsePublicKey(s string) (PublicKey, error) {
	raw, err := parseKeyText(s, PublicKeyPrefix, "public key")
	if err != nil {
		return PublicKey{}, err
	}
	return publicKeyFromBytes(raw)
}

func publicKeyFromBytes(raw []byte) (PublicKey, error) {
	if len(raw) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("signature: public key is %d bytes, want %d", len(raw), ed25519.PublicKeySize)
	}
	var p PublicKey
	copy(p.raw[:], raw)
	p.set = true
	return p, nil
}

// IsZero reports whether p holds no key.
func (p PublicKey) IsZero() bool { return !p.set }

// Bytes returns a copy of the 32-byte key, for [crypto/ed25519.Verify]; nil for
// the zero PublicKey.
func (p PublicKey) Bytes() []byte {
	if !p.set {
		return nil
	}
	return append([]byte(nil), p.raw[:]...)
}

// String returns "whpk_<base64>" (padded standard base64), or "" for the zero
// PublicKey.
func (p PublicKey) String() string {
	if !p.set {
		return ""
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(p.raw[:])
}

// MarshalText returns the [PublicKey.String] form.
func (p PublicKey) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses text with [ParsePublicKey]. Empty text leaves the zero
// PublicKey.
func (p *PublicKey) UnmarshalText(text []byte) error {
	return parseText(p, text, ParsePublicKey)
}

// parseKeyText decodes prefix + standard base64 (padding optional) without ever
// putting the text in an error.
func parseKeyText(s, prefix, what string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("signature: empty %s", what)
	}
	b64, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("signature: %s must start with %q", what, prefix)
	}
	b64 = strings.TrimRight(b64, "=")
	if b64 == "" {
		return nil, fmt.Errorf("signature: %s has no key after %q", what, prefix)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("signature: %s after %q is not standard base64", what, prefix)
	}
	return raw, nil
}

// SignV1a returns "v1a,<base64 ed25519(key, id + "." + timestamp + "." + body)>",
// the timestamp being ts in Unix seconds. SignV1a of the zero SigningKey is "".
func SignV1a(k SigningKey, id string, ts time.Time, body []byte) string {
	if k.k == nil {
		return ""
	}
	buf := make([]byte, 0, sigLenV1a)
	return string(AppendSignV1a(buf, k, id, ts, body))
}

// AppendSignV1a appends the signature [SignV1a] returns to dst and returns the
// extended buffer. It appends nothing for the zero SigningKey.
func AppendSignV1a(dst []byte, k SigningKey, id string, ts time.Time, body []byte) []byte {
	if k.k == nil {
		return dst
	}
	mp := getMsg()
	*mp = appendSignedContent((*mp)[:0], id, ts.Unix(), body)
	dst = k.k.appendSig(dst, *mp)
	putMsg(mp)
	return dst
}

func (k *edKey) appendSig(dst, msg []byte) []byte {
	dst = append(dst, versionV1a...)
	return base64.StdEncoding.AppendEncode(dst, ed25519.Sign(k.priv, msg))
}

// SignHeader returns the whole webhook-signature header value for a request
// signed with every secret (v1) and every signing key (v1a): the signatures, in
// that order, joined by one space. Zero secrets and keys are skipped. With no
// keys it is [SignAll].
func SignHeader(secrets []Secret, keys []SigningKey, id string, ts time.Time, body []byte) string {
	buf := make([]byte, 0, len(secrets)*(sigLen+1)+len(keys)*(sigLenV1a+1))
	for _, s := range secrets {
		if s.k == nil {
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, ' ')
		}
		buf = AppendSign(buf, s, id, ts, body)
	}
	var mp *[]byte
	for _, k := range keys {
		if k.k == nil {
			continue
		}
		if mp == nil {
			mp = getMsg()
			*mp = appendSignedContent((*mp)[:0], id, ts.Unix(), body)
		}
		if len(buf) > 0 {
			buf = append(buf, ' ')
		}
		buf = k.k.appendSig(buf, *mp)
	}
	if mp != nil {
		putMsg(mp)
	}
	return string(buf)
}

// appendSignedContent appends id.ts.body, the content every version signs.
func appendSignedContent(dst []byte, id string, ts int64, body []byte) []byte {
	dst = append(dst, id...)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, '.')
	return append(dst, body...)
}

// msgPool holds buffers for the signed content: ed25519 signs a message in one
// piece, so id.ts.body is copied into one. Big buffers are not kept.
var msgPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxPooledMsg = 64 << 10

func getMsg() *[]byte { return msgPool.Get().(*[]byte) }

func putMsg(b *[]byte) {
	if cap(*b) > maxPooledMsg {
		return
	}
	msgPool.Put(b)
}
