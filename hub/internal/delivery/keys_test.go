package delivery

import (
	"fmt"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/sdk/signature"
)

// TestKeysKeepOnlySigners: an account without keys of its own signs and
// publishes the key derived for it; asking the public keys of any number of
// names (the public JWKS route) keeps nothing, so it cannot grow the hub's
// memory, while the accounts that sign keep theirs.
func TestKeysKeepOnlySigners(t *testing.T) {
	def, _ := signature.NewSigningKey()
	own, _ := signature.NewSigningKey()
	k, err := ParseKeys(&config.Config{
		Delivery: config.Delivery{SigningKeys: []config.Secret{config.Secret(def.Reveal())}},
		Accounts: []config.Account{{ID: "acme", SigningKeys: []config.Secret{config.Secret(own.Reveal())}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pk := k.PublicKeys("acme"); len(pk) != 1 || pk[0] != own.Public() {
		t.Errorf("acme's own key: %v", pk)
	}
	for i := range 1000 {
		name := fmt.Sprintf("stranger%d", i)
		if pk := k.PublicKeys(name); len(pk) != 1 || pk[0] != DeriveAccountKey(def, name).Public() {
			t.Fatalf("%s: %v", name, pk)
		}
	}
	kept := 0
	k.derived.Range(func(any, any) bool { kept++; return true })
	if kept != 0 {
		t.Errorf("%d derived keys kept for names only asked for", kept)
	}
	if ks := k.For("beta"); len(ks) != 1 || ks[0].Public() != DeriveAccountKey(def, "beta").Public() || k.PublicKeys("beta")[0] != ks[0].Public() {
		t.Errorf("beta signs with %v", ks)
	}
	k.derived.Range(func(any, any) bool { kept++; return true })
	if kept != 1 {
		t.Errorf("%d derived keys kept, want beta's", kept)
	}
}
