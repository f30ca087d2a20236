// Package signcheck checks sdk/signature against the Standard Webhooks
// reference library. It lives in the hub module so that the sdk module needs
// nothing beyond the standard library, not even for its tests.
package signcheck
