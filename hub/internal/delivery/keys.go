package delivery

import (
	"fmt"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/sdk/signature"
)

// Keys are the v1a signing keys by account, parsed once; "" holds the hub's
// default (delivery.signing_keys).
type Keys map[string][]signature.SigningKey

// ParseKeys reads every account's v1a keys and the default ones.
func ParseKeys(c *config.Config) (Keys, error) {
	k := Keys{}
	parse := func(account, at string, in []config.Secret) error {
		for i, s := range in {
			sk, err := signature.ParseSigningKey(s.Reveal())
			if err != nil {
				return fmt.Errorf("%s[%d]: not a whsk_ signing key (the value is not shown)", at, i)
			}
			k[account] = append(k[account], sk)
		}
		return nil
	}
	if err := parse("", "delivery.signing_keys", c.Delivery.SigningKeys); err != nil {
		return nil, err
	}
	for i, a := range c.Accounts {
		if err := parse(a.ID, fmt.Sprintf("accounts[%d].signing_keys", i), a.SigningKeys); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// For returns the account's keys, or the default ones; the first signs.
func (k Keys) For(account string) []signature.SigningKey {
	if ks, ok := k[account]; ok {
		return ks
	}
	return k[""]
}

// PublicKeys are the account's public keys, for its JWKS.
func (k Keys) PublicKeys(account string) []signature.PublicKey {
	ks := k.For(account)
	out := make([]signature.PublicKey, len(ks))
	for i, sk := range ks {
		out[i] = sk.Public()
	}
	return out
}
