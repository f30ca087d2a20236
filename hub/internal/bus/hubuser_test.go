package bus

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestHubUserInProcessOnly: even with its password, the hub's own login is
// refused over TCP; in process it works.
func TestHubUserInProcessOnly(t *testing.T) {
	const pw = "the-hub-password-as-if-it-leaked"
	s, err := StartServerWith(ServerOptions{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), Prefix: "hookhub",
		Users: []User{{Name: "acme-pub", Password: "acme-publisher-password", Account: "acme"}}, hubPassword: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(HubUser, pw), nats.NoReconnect()); !errors.Is(err, nats.ErrAuthorization) {
		if nc != nil {
			nc.Close()
		}
		t.Errorf("the hub's login over TCP: %v, want an authorization violation", err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.UserInfo(HubUser, pw))
	if err != nil {
		t.Fatalf("the hub's login in process: %v", err)
	}
	nc.Close()
}
