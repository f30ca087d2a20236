package bus

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// User is a login of the embedded server: a publisher for one account, or an
// admin.
type User struct {
	Name, Password string
	// Account is the account whose events the user may publish, on
	// <prefix>.events.<account>.>.
	Account string
	// Admin users may use every subject: for operators' tools.
	Admin bool
}

// HubUser is the hub's own login on its embedded server: in-process
// connections only, with a password made anew by each process.
const HubUser = "_hookhub_hub"

// HubInboxPrefix is the inbox prefix of the hub's own connection. Publishers
// may subscribe to _INBOX.> for the acks of their JetStream publishes, never
// to this: what JetStream answers the hub (webhooks with their secrets, the
// events it consumes) does not reach them.
const HubInboxPrefix = "_HOOKHUB_INBOX"

// PublisherInbox is what a publisher may subscribe to: the replies to its
// requests (JetStream's acks).
const PublisherInbox = "_INBOX.>"

// PublishSubject is what a publisher for account may publish on.
func PublishSubject(prefix, account string) string { return prefix + ".events." + account + ".>" }

func serverUsers(users []User, prefix, hubPassword string) ([]*server.User, error) {
	if hubPassword == "" {
		hubPassword = randomPassword()
	}
	out := []*server.User{{
		Username: HubUser, Password: hubPassword,
		AllowedConnectionTypes: map[string]struct{}{"IN_PROCESS": {}},
	}}
	for _, u := range users {
		if u.Name == "" || u.Name == HubUser || u.Password == "" {
			return nil, fmt.Errorf("bus: nats user %q: needs a name other than %s and a password", u.Name, HubUser)
		}
		su := &server.User{Username: u.Name, Password: u.Password,
			// Network clients only: no one logs in as a user in process.
			AllowedConnectionTypes: map[string]struct{}{"STANDARD": {}, "WEBSOCKET": {}}}
		if !u.Admin {
			if u.Account == "" {
				return nil, fmt.Errorf("bus: nats user %q: needs an account, or admin", u.Name)
			}
			su.Permissions = &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{PublishSubject(prefix, u.Account)}},
				Subscribe: &server.SubjectPermission{Allow: []string{PublisherInbox}},
			}
		}
		out = append(out, su)
	}
	return out, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomPassword() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
