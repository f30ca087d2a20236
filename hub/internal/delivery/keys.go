package delivery

import (
	"fmt"
	"sync"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/sdk/signature"
)

// Keys are the v1a signing keys by account, parsed once. An account without
// keys of its own signs with keys derived for it from the hub's default ones
// (delivery.signing_keys): its own, never another account's, so that no
// account's requests verify with another's published keys.
type Keys struct {
	own     map[string][]signature.SigningKey // "" holds the default ones
	derived *sync.Map                         // account -> []signature.SigningKey
}

// ParseKeys reads every account's v1a keys and the default ones.
func ParseKeys(c *config.Config) (Keys, error) {
	k := Keys{own: map[string][]signature.SigningKey{}, derived: &sync.Map{}}
	parse := func(account, at string, in []config.Secret) error {
		for i, s := range in {
			sk, err := signature.ParseSigningKey(s.Reveal())
			if err != nil {
				return fmt.Errorf("%s[%d]: not a whsk_ signing key (the value is not shown)", at, i)
			}
			k.own[account] = append(k.own[account], sk)
		}
		return nil
	}
	if err := parse("", "delivery.signing_keys", c.Delivery.SigningKeys); err != nil {
		return Keys{}, err
	}
	for i, a := range c.Accounts {
		if err := parse(a.ID, fmt.Sprintf("accounts[%d].signing_keys", i), a.SigningKeys); err != nil {
			return Keys{}, err
		}
	}
	return k, nil
}

// For returns the account's keys: its own, or those derived for it from the
// default ones (DeriveAccountKey), kept for its next requests; the first
// signs. None when neither is set.
func (k Keys) For(account string) []signature.SigningKey { return k.lookup(account, true) }

// lookup returns the account's own keys, or those derived for it, which it
// keeps when keep is set.
func (k Keys) lookup(account string, keep bool) []signature.SigningKey {
	if ks, ok := k.own[account]; ok {
		return ks
	}
	def := k.own[""]
	if len(def) == 0 || account == "" {
		return nil
	}
	if ks, ok := k.derived.Load(account); ok {
		return ks.([]signature.SigningKey)
	}
	ks := make([]signature.SigningKey, len(def))
	for i, d := range def {
		ks[i] = DeriveAccountKey(d, account)
	}
	if !keep {
		return ks
	}
	got, _ := k.derived.LoadOrStore(account, ks)
	return got.([]signature.SigningKey)
}

// DeriveAccountKey is the key an account without keys of its own signs with,
// derived from a default key: one per account, and the same at every start
// and on every hub.
func DeriveAccountKey(def signature.SigningKey, account string) signature.SigningKey {
	return def.Derive("account:" + account)
}

// PublicKeys are the account's public keys, for its JWKS. Keys derived
// for it here are not kept: the JWKS route is public, and anyone may ask
// for any account name; For keeps those of the accounts that sign.
func (k Keys) PublicKeys(account string) []signature.PublicKey {
	ks := k.lookup(account, false)
	out := make([]signature.PublicKey, len(ks))
	for i, sk := range ks {
		out[i] = sk.Public()
	}
	return out
}
