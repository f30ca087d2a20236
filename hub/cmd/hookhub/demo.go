package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
	"github.com/hookhub/hookhub/sdk/receiver"
	"github.com/hookhub/hookhub/sdk/signature"
)

// demoEvents are published by the demo: some match the example webhooks, one
// matches none.
var demoEvents = []struct{ typ, initiator, lists string }{
	{"contact.updated", event.InitiatorAPI, "12,15"},
	{"email.hard_bounced", event.InitiatorSystem, ""},
	{"contact.subscribed", event.InitiatorContact, "12"},
	{"email.clicked", event.InitiatorContact, ""},
	{"list.contact_added", event.InitiatorUser, "12"},
	{"contact.created", event.InitiatorAPI, ""},
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo [--config FILE]", stderr)
	file := fs.String("config", envOr("HOOKHUB_CONFIG", "examples/hookhub.json"), "config file whose webhooks point at the local receiver")
	interval := fs.Duration("interval", time.Second, "time between the sample events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*file, environ())
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stopReceivers, err := startDemoReceivers(cfg, stdout)
	if err != nil {
		return err
	}
	defer stopReceivers()
	return serve(ctx, cfg, log, func(h *hub.Hub) {
		printConsole(h, cfg, stdout)
		go publishDemoEvents(ctx, h, cfg, *interval, stdout)
	})
}

// printConsole tells where the web console is and how to sign in to it.
func printConsole(h *hub.Hub, cfg *config.Config, out io.Writer) {
	u := h.ConsoleURL()
	if u == "" {
		return
	}
	how := "no token is needed: this hub has no API token, so it answers on its loopback address only"
	if cfg.APIToken.Reveal() != "" {
		how = "sign in with the API token (HOOKHUB_API_TOKEN)"
	} else {
		for _, a := range cfg.Accounts {
			if a.APIToken.Reveal() != "" {
				how = "sign in with an account's api_token"
				break
			}
		}
	}
	fmt.Fprintf(out, "\nweb console: %s\n  open it in a browser; %s\n", u, how)
}

// startDemoReceivers listens on every loopback address the webhooks point at
// and prints each verified delivery.
func startDemoReceivers(cfg *config.Config, out io.Writer) (func(), error) {
	var secrets []signature.Secret
	hosts := map[string]bool{}
	for _, w := range cfg.Webhooks {
		s, err := signature.ParseSecret(w.Secret.Reveal())
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, s)
		if u, err := url.Parse(w.URL); err == nil && u.Scheme == "http" {
			if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
				hosts[u.Host] = true
			}
		}
	}
	var mu sync.Mutex
	h := receiver.Handler(&signature.Verifier{Secrets: secrets}, func(d receiver.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		auth := ""
		if a := d.Headers.Get("Authorization"); a != "" {
			auth = " (with Authorization header)"
		}
		fmt.Fprintf(out, "\n<- received %s for account %s, webhook-id %s: signature verified%s\n   %s\n",
			d.Payload.Type, d.Payload.Account, d.ID, auth, d.Body)
		return nil
	})
	var servers []*http.Server
	for host := range hosts {
		ln, err := net.Listen("tcp", host)
		if err != nil {
			for _, s := range servers {
				_ = s.Close()
			}
			return nil, fmt.Errorf("demo receiver on %s: %w", host, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(ln) }()
		fmt.Fprintf(out, "demo receiver listening on http://%s\n", host)
	}
	return func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}, nil
}

func publishDemoEvents(ctx context.Context, h *hub.Hub, cfg *config.Config, interval time.Duration, out io.Writer) {
	p := publish.New(h.JetStream(), cfg.SubjectPrefix)
	account := "acme"
	if len(cfg.Webhooks) > 0 {
		account = cfg.Webhooks[0].Account
	}
	for _, de := range demoEvents {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		e := &event.Event{Source: "hookhub/demo", Type: de.typ, Account: account, Initiator: de.initiator, Lists: de.lists}
		if t, ok := schemas.Lookup(de.typ); ok {
			e.Data = t.Sample
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := p.Publish(pctx, e)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(out, "-> publishing %s failed: %v\n", de.typ, err)
			continue
		}
		fmt.Fprintf(out, "\n-> published %s (initiator %s, lists %q) as %s\n", de.typ, de.initiator, de.lists, e.ID)
	}
	login := ""
	for _, u := range cfg.NATSUsers {
		if u.Account == account {
			login = fmt.Sprintf("HOOKHUB_NATS_USER=%s HOOKHUB_NATS_PASSWORD=<its password> ", u.User)
			break
		}
	}
	if login == "" && len(cfg.NATSUsers) > 0 {
		login = "HOOKHUB_NATS_USER=<a NATS user of account " + account + "> HOOKHUB_NATS_PASSWORD=<its password> "
	}
	fmt.Fprintf(out, "\nThe demo's events are out. Publish your own from another terminal:\n"+
		"  %sgo run ./hub/cmd/hookhub publish --nats %s --account %s --type contact.updated --initiator api --data '{\"email\":\"ada@example.com\",\"attributes\":{\"FIRSTNAME\":\"Ada\"}}'\n"+
		"Press Ctrl-C to stop the hub.\n", login, natsURLOr(h), account)
}

func natsURLOr(h *hub.Hub) string {
	if u := h.NATSURL(); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}
