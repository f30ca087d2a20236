package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strings"

	"github.com/hookhub/hookhub/sdk/event"
)

// HubNATSUser is the login the hub itself uses on its embedded server (in
// process only, with a password made anew by each process); no configured
// user may take the name.
const HubNATSUser = "_hookhub_hub"

// LoopbackListen reports whether an embedded server's listen address takes
// clients from this host only ("none" takes none at all).
func LoopbackListen(listen string) bool {
	if listen == "none" {
		return true
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkNATS checks the NATS logins: a non-loopback embedded server needs
// users, each user publishes for one valid account or is an admin, and the
// hub's own outside login is one kind.
func (c *Config) checkNATS(name string) []error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{File: name, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if c.NATSURL != "" && len(c.NATSUsers) > 0 {
		bad("nats_users", "are logins of the embedded server, and nats_url names an outside NATS: give publishers their permissions there (see docs/operations.md)")
	}
	if c.NATSURL == "" && len(c.NATSUsers) == 0 && !LoopbackListen(c.NATSListen) {
		bad("nats_listen", "%q takes clients from other hosts, and no nats_users are configured: anyone who reaches it could read every webhook's secrets and publish for any account. "+
			"Configure nats_users (publishers log in and publish for their own account only), or listen on 127.0.0.1", c.NATSListen)
	}
	if c.NATSCreds != "" && (c.NATSUser != "" || c.NATSPassword != "") {
		bad("nats_creds", "give either nats_creds or nats_user and nats_password, not both")
	}
	if (c.NATSUser == "") != (c.NATSPassword == "") {
		bad("nats_user", "nats_user and nats_password go together")
	}
	seen := map[string]int{}
	for i, u := range c.NATSUsers {
		at := fmt.Sprintf("nats_users[%d]", i)
		switch {
		case u.User == "" || strings.ContainsAny(u.User, " \t\r\n"):
			bad(at+".user", "must be a name without spaces")
		case u.User == HubNATSUser:
			bad(at+".user", "%q is the hub's own login", u.User)
		}
		if j, dup := seen[u.User]; dup {
			bad(at+".user", "duplicate user %q (also nats_users[%d])", u.User, j)
		}
		seen[u.User] = i
		if u.Password == "" {
			bad(at+".password", "is required (write ${env:NAME} to keep it out of the file)")
		} else if len(u.Password.Reveal()) < 12 {
			bad(at+".password", "must be at least 12 characters (the value is not shown)")
		}
		switch {
		case u.Admin && u.Account != "":
			bad(at, "is either a publisher for an account or an admin, not both")
		case !u.Admin && u.Account == "":
			bad(at+".account", "is required: the account this user publishes for (or admin: true)")
		case !u.Admin && !event.ValidAccount(u.Account):
			bad(at+".account", "must be letters, digits, '_' or '-'")
		}
	}
	return errs
}

// SecretsKey is a 256-bit key of secrets_key, with its id: the first 8 hex
// digits of its SHA-256, which names it in what it encrypted.
type SecretsKey struct {
	ID  string
	Key [32]byte
}

// SecretsKeys parses secrets_key: none, or base64 32-byte keys,
// comma-separated, the first one current. Errors never show a key.
func (c *Config) SecretsKeys() ([]SecretsKey, error) {
	v := strings.TrimSpace(c.SecretsKey.Reveal())
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	keys := make([]SecretsKey, 0, len(parts))
	ids := map[string]bool{}
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(p))
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("key %d of %d is not the base64 of 32 bytes, such as `head -c 32 /dev/urandom | base64` makes (the value is not shown)", i+1, len(parts))
		}
		var k SecretsKey
		copy(k.Key[:], b)
		sum := sha256.Sum256(b)
		k.ID = hex.EncodeToString(sum[:4])
		if ids[k.ID] {
			return nil, fmt.Errorf("key %d of %d is given twice", i+1, len(parts))
		}
		ids[k.ID] = true
		keys = append(keys, k)
	}
	return keys, nil
}
