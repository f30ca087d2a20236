// Package signature signs and verifies webhook requests as the Standard Webhooks
// specification describes, with symmetric v1 (HMAC-SHA256) and asymmetric v1a
// (ed25519) signatures. The hub signs with it and receivers verify with it.
//
// A signed request carries three headers:
//
//	webhook-id:        msg_2f9c...            (the same on every retry of one message)
//	webhook-timestamp: 1614265330             (Unix seconds, decimal)
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
// # Symmetric signatures (v1)
//
// Secrets are written "whsec_" followed by the standard base64 form of the key.
// A [Secret] never prints or marshals its key: use [Secret.Reveal] to get it out.
// [Sign] makes one signature and [SignAll] the header of several.
//
// # Asymmetric signatures (v1a)
//
// With v1a the hub signs the same content, id + "." + timestamp + "." + body,
// with an ed25519 private key, and receivers verify with the public key only, so
// a receiver can't forge requests:
//
//	webhook-signature: v1a,<base64 of the 64-byte ed25519 signature>
//
// A [SigningKey] is written "whsk_" followed by the standard base64 form of its
// 32-byte seed, as the Standard Webhooks libraries write it; like a Secret it
// never prints or marshals its key ([SigningKey.Reveal] does). Its
// [SigningKey.Public] key is written "whpk_" followed by the standard base64 form
// of the 32-byte public key, and may be shown to anyone. [SignV1a] makes one
// signature. A receiver lists the keys it trusts in [Verifier.PublicKeys].
//
// # Several signatures
//
// While a key is being rotated, or while receivers move from v1 to v1a, the
// signature header holds several signatures separated by one space, one per key:
// [SignHeader] makes it from secrets and signing keys. A receiver accepts the
// request if any v1 signature matches any of its secrets or any v1a signature
// verifies under any of its public keys; signatures of versions it doesn't know
// are ignored.
//
// # Publishing public keys
//
// The hub can publish its public keys as a JSON Web Key Set (RFC 7517), each key
// in the form of RFC 8037:
//
//	{"keys":[{"kty":"OKP","crv":"Ed25519","x":"<base64url>","kid":"...","use":"sig","alg":"EdDSA"}]}
//
// [PublicKey.JWK] and [JWKS] build the document; [PublicKeysFromJWKS] turns one,
// fetched from the hub over HTTPS, back into public keys for a [Verifier]. Trust
// only keys from the hub itself, never keys that come with a request.
//
// The package uses only the standard library.
package signature
