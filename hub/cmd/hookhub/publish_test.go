package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestPublishLogsIn: against a hub whose NATS takes logins, hookhub publish
// is refused without one, publishes its account's events with one, and is
// told at once, clearly, when it speaks for another account.
func TestPublishLogsIn(t *testing.T) {
	const acmePassword = "acme-publisher-password"
	h := hubtest.StartHub(t, `{"nats_users":[{"user":"acme-pub","password":"${env:ACME_NATS_PASSWORD}","account":"acme"}]}`,
		map[string]string{"ACME_NATS_PASSWORD": acmePassword})
	url := h.NATSURL()
	t.Setenv("HOOKHUB_NATS_URL", url)
	t.Setenv("HOOKHUB_NATS_USER", "")
	t.Setenv("HOOKHUB_NATS_PASSWORD", "")
	t.Setenv("HOOKHUB_NATS_CREDS", "")
	args := []string{"publish", "--account", "acme", "--type", "contact.updated", "--id", "evt_cli_login"}

	_, errs, code := runCLI(t, args...)
	if code != 1 || !strings.Contains(errs, "Authorization Violation") || !strings.Contains(errs, "HOOKHUB_NATS_USER") {
		t.Errorf("no login (exit %d): %s", code, errs)
	}
	_, errs, code = runCLI(t, append(args, "--user", "acme-pub")...)
	if code != 1 || !strings.Contains(errs, "HOOKHUB_NATS_PASSWORD") {
		t.Errorf("a user without its password (exit %d): %s", code, errs)
	}

	t.Setenv("HOOKHUB_NATS_USER", "acme-pub")
	t.Setenv("HOOKHUB_NATS_PASSWORD", acmePassword)
	out, errs, code := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "published contact.updated evt_cli_login") {
		t.Fatalf("acme's publisher (exit %d): %s%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "publish", "--account", "beta", "--type", "contact.updated", "--id", "evt_cli_forged")
	if code != 1 || !strings.Contains(errs, "refused") || !strings.Contains(errs, "its own account") {
		t.Errorf("acme's publisher for beta (exit %d): %s%s", code, out, errs)
	}
	if strings.Contains(out+errs, acmePassword) {
		t.Error("the password shows in the output")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Every event ever stored reaches the router's consumer (which reads
	// every account's events and nothing else): once it has none pending,
	// it has been handed acme's event only.
	var delivered uint64
	hubtest.Eventually(t, 5*time.Second, "the router has taken every stored event", func() bool {
		c, err := h.JetStream().Consumer(ctx, "HOOKHUB_EVENTS", "router")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil || info.NumPending > 0 {
			return false
		}
		delivered = info.Delivered.Consumer
		return delivered > 0
	})
	if delivered != 1 {
		t.Errorf("the router was handed %d events, want acme's 1", delivered)
	}
}
