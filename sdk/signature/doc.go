// Package signature signs and verifies webhook requests as the Standard Webhooks
// specification (v1, HMAC-SHA256) describes. The hub signs with it and receivers
// verify with it.
//
// A signed request carries three headers:
//
//	webhook-id:        msg_2f9c...            (the same on every retry of one message)
//	webhook-timestamp: 1614265330             (Unix seconds, decimal)
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
// While a secret is being rotated the signature header holds several signatures
// separated by one space, one per secret; a receiver accepts the request if any of
// them matches any of its secrets.
//
// Secrets are written "whsec_" followed by the standard base64 form of the key.
// A [Secret] never prints or marshals its key: use [Secret.Reveal] to get it out.
//
// The package uses only the standard library.
package signature
