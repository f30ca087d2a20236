package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// JSON Web Key parameter values of an Ed25519 verification key (RFC 8037).
const (
	jwkKtyOKP     = "OKP"
	jwkCrvEd25519 = "Ed25519"
	jwkUseSig     = "sig"
	jwkAlgEdDSA   = "EdDSA"
	jwkAlgEd25519 = "Ed25519" // the fully specified name of RFC 9864
)

// JWK is a JSON Web Key (RFC 7517) of an Ed25519 public key in the form of
// RFC 8037:
//
//	{"kty":"OKP","crv":"Ed25519","x":"<base64url, no padding>","kid":"...","use":"sig","alg":"EdDSA"}
//
// Decoding a JWK that holds a private key (a "d" member) fails, so a published
// private key is noticed rather than silently used.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// JWKS is a JSON Web Key Set, {"keys":[...]}, as a hub publishes its v1a public
// keys for receivers to fetch.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// ErrPrivateJWK is the error of decoding a JWK holding private key material.
var ErrPrivateJWK = errors.New("signature: JWK holds a private key")

// JWK returns p as a JSON Web Key with key ID kid ("" leaves kid out), for
// signatures ("use":"sig", "alg":"EdDSA"). [PublicKey.Thumbprint] is a good kid.
func (p PublicKey) JWK(kid string) JWK {
	return JWK{
		Kty: jwkKtyOKP,
		Crv: jwkCrvEd25519,
		X:   base64.RawURLEncoding.EncodeToString(p.raw[:]),
		Kid: kid,
		Use: jwkUseSig,
		Alg: jwkAlgEdDSA,
	}
}

// Thumbprint returns the JWK thumbprint of p (RFC 7638 with SHA-256, as RFC 8037
// computes it for Ed25519) in base64url without padding: a stable key ID that
// anyone holding the key can recompute.
func (p PublicKey) Thumbprint() string {
	// The required members in lexicographic order, without white space (RFC 7638).
	b := make([]byte, 0, 96)
	b = append(b, `{"crv":"Ed25519","kty":"OKP","x":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, p.raw[:])
	b = append(b, `"}`...)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// UnmarshalJSON decodes a JWK, failing with [ErrPrivateJWK] if it has a "d"
// member. Other members are not checked here: see [JWK.PublicKey].
func (j *JWK) UnmarshalJSON(data []byte) error {
	type plain JWK
	var in struct {
		plain
		D json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if in.D != nil {
		return ErrPrivateJWK
	}
	*j = JWK(in.plain)
	return nil
}

// PublicKey returns the Ed25519 public key j holds. It fails unless kty is
// "OKP", crv is "Ed25519", x is the unpadded base64url form of 32 bytes, use is
// absent or "sig", and alg is absent, "EdDSA" or "Ed25519".
func (j JWK) PublicKey() (PublicKey, error) {
	if j.Kty != jwkKtyOKP || j.Crv != jwkCrvEd25519 {
		return PublicKey{}, errors.New(`signature: JWK is not an Ed25519 key (kty "OKP", crv "Ed25519")`)
	}
	if j.Use != "" && j.Use != jwkUseSig {
		return PublicKey{}, errors.New(`signature: JWK "use" is not "sig"`)
	}
	if j.Alg != "" && j.Alg != jwkAlgEdDSA && j.Alg != jwkAlgEd25519 {
		return PublicKey{}, errors.New(`signature: JWK "alg" is not "EdDSA"`)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(j.X)
	if err != nil {
		return PublicKey{}, errors.New(`signature: JWK "x" is not unpadded base64url`)
	}
	return publicKeyFromBytes(raw)
}

// ParseJWK parses one JSON Web Key document with [JWK.PublicKey]'s rules.
func ParseJWK(data []byte) (PublicKey, error) {
	var j JWK
	if err := json.Unmarshal(data, &j); err != nil {
		return PublicKey{}, jwkDecodeError("JWK", err)
	}
	return j.PublicKey()
}

// PublicKeys returns the Ed25519 signature keys of the set, in order. Keys of
// other types or curves, or meant for other uses or algorithms, are skipped, as
// RFC 7517 asks; an Ed25519 key whose "x" is malformed is an error. Finding no
// usable key is an error too.
func (s JWKS) PublicKeys() ([]PublicKey, error) {
	var keys []PublicKey
	for i, j := range s.Keys {
		if j.Kty != jwkKtyOKP || j.Crv != jwkCrvEd25519 ||
			(j.Use != "" && j.Use != jwkUseSig) ||
			(j.Alg != "" && j.Alg != jwkAlgEdDSA && j.Alg != jwkAlgEd25519) {
			continue
		}
		p, err := j.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("signature: JWKS key %d: %w", i, err)
		}
		keys = append(keys, p)
	}
	if len(keys) == 0 {
		return nil, errors.New("signature: JWKS has no Ed25519 signature key")
	}
	return keys, nil
}

// PublicKeysFromJWKS parses a JWKS document, as fetched from the hub, and returns
// its Ed25519 signature keys for [Verifier.PublicKeys]. See [JWKS.PublicKeys].
// A document holding any private key fails with [ErrPrivateJWK].
func PublicKeysFromJWKS(data []byte) ([]PublicKey, error) {
	var s struct {
		Keys *[]JWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, jwkDecodeError("JWKS", err)
	}
	if s.Keys == nil {
		return nil, errors.New(`signature: JWKS has no "keys" member`)
	}
	return JWKS{Keys: *s.Keys}.PublicKeys()
}

// jwkDecodeError wraps a JSON error without quoting the document, which could
// hold private key material.
func jwkDecodeError(what string, err error) error {
	if errors.Is(err, ErrPrivateJWK) {
		return err
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("signature: %s is not valid JSON (at byte %d)", what, syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("signature: %s member %q has the wrong JSON type", what, typ.Field)
	}
	return fmt.Errorf("signature: %s is not valid JSON", what)
}
