package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
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
	fs := newFlags("demo", "demo [--config FILE] [--receiver ADDR]", stderr)
	file := fs.String("config", envOr("HOOKHUB_CONFIG", "examples/hookhub.json"), "config file whose webhooks point at the local receiver")
	interval := fs.Duration("interval", time.Second, "time between the sample events")
	recvAddr := fs.String("receiver", "", "where the demo receiver listens (127.0.0.1:0 for any free port); the config's loopback webhook URLs are pointed at it (default: the addresses they name)")
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

	rcv := &demoReceiver{out: stdout}
	stopReceivers, err := rcv.start(cfg, *recvAddr)
	if err != nil {
		return err
	}
	defer stopReceivers()
	return serve(ctx, cfg, log, func(h *hub.Hub) {
		rcv.hub.Store(h)
		if u := h.APIURL(); u != "" {
			fmt.Fprintf(stdout, "management API on %s\n", u)
		}
		fmt.Fprintf(stdout, "NATS for publishers on %s\n", natsURLOr(h))
		printConsole(ctx, h, cfg, stdout)
		go publishDemoEvents(ctx, h, cfg, *interval, stdout)
	})
}

// demoReceiver verifies each request with the secrets the hub signs with
// now, for the webhook the request names (its webhook-id ends in the
// webhook's id): the example webhooks', and those created or rotated through
// the API. It prints each delivery it accepts, and each it refuses with the
// reason.
type demoReceiver struct {
	hub      atomic.Pointer[hub.Hub]
	fallback []signature.Secret // the config file's, until the hub is up
	out      io.Writer
	mu       sync.Mutex // one printed delivery at a time
}

// secrets are the signing secrets for the request with webhook-id id.
func (d *demoReceiver) secrets(id string) []signature.Secret {
	h := d.hub.Load()
	if h == nil {
		return d.fallback
	}
	now, snap := time.Now(), h.Snapshot()
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		if w := snap.Get(id[i+1:]); w != nil {
			return w.SigningSecrets(now)
		}
	}
	var all []signature.Secret // a batch's id names no webhook
	for _, w := range snap.All() {
		all = append(all, w.SigningSecrets(now)...)
	}
	return all
}

func (d *demoReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(signature.HeaderID)
	rec := &refusal{ResponseWriter: w}
	receiver.Handler(&signature.Verifier{Secrets: d.secrets(id)}, d.print).ServeHTTP(rec, r)
	if rec.status >= 300 {
		d.mu.Lock()
		defer d.mu.Unlock()
		fmt.Fprintf(d.out, "\n<- refused %s %s, webhook-id %q: %d %s\n", r.Method, r.URL.Path, id, rec.status, strings.TrimSpace(rec.body.String()))
	}
}

func (d *demoReceiver) print(dl receiver.Delivery) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	auth := ""
	if a := dl.Headers.Get("Authorization"); a != "" {
		auth = " (with Authorization header)"
	}
	test := ""
	if dl.Headers.Get("Hookhub-Test") == "true" {
		test = " (a test send)"
	}
	fmt.Fprintf(d.out, "\n<- received %s for account %s, webhook-id %s: signature verified%s%s\n   %s\n",
		dl.Payload.Type, dl.Payload.Account, dl.ID, auth, test, dl.Body)
	return nil
}

// refusal notes the status and the error text of an answer.
type refusal struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *refusal) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *refusal) Write(b []byte) (int, error) {
	if r.status >= 300 && r.body.Len() < 512 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// demoLinkLifetime is how long the demo's console sign-in link lasts.
const demoLinkLifetime = 15 * time.Minute

// printConsole tells where the web console is, with a single-use link that
// signs a browser straight in (made in process: no token is printed), or
// how to sign in when no link can be made.
func printConsole(ctx context.Context, h *hub.Hub, cfg *config.Config, out io.Writer) {
	u := h.ConsoleURL()
	if u == "" {
		return
	}
	link, err := h.ConsoleSignInLink(ctx, demoLinkLifetime)
	if err == nil {
		fmt.Fprintf(out, "\nweb console: %s\n  sign in: %s\n  (opens once, within %s; then sign in with the API token, if the hub has one)\n",
			u, link, demoLinkLifetime)
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

// start listens on every loopback address the webhooks point at, or on addr
// when it is given (pointing those webhooks at it).
func (d *demoReceiver) start(cfg *config.Config, addr string) (func(), error) {
	hosts := map[string]bool{}
	var loopback []int // webhooks whose URL is a loopback http:// one
	for i, w := range cfg.Webhooks {
		s, err := signature.ParseSecret(w.Secret.Reveal())
		if err != nil {
			return nil, err
		}
		d.fallback = append(d.fallback, s)
		if u, err := url.Parse(w.URL); err == nil && u.Scheme == "http" {
			if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
				hosts[u.Host] = true
				loopback = append(loopback, i)
			}
		}
	}
	var lns []net.Listener
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("demo receiver on %s: %w", addr, err)
		}
		lns = append(lns, ln)
		for _, i := range loopback {
			u, _ := url.Parse(cfg.Webhooks[i].URL)
			u.Host = ln.Addr().String()
			cfg.Webhooks[i].URL = u.String()
		}
	} else {
		for host := range hosts {
			ln, err := net.Listen("tcp", host)
			if err != nil {
				for _, l := range lns {
					_ = l.Close()
				}
				return nil, fmt.Errorf("demo receiver on %s: %w", host, err)
			}
			lns = append(lns, ln)
		}
	}
	var servers []*http.Server
	for _, ln := range lns {
		srv := &http.Server{Handler: d, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(ln) }()
		fmt.Fprintf(d.out, "demo receiver listening on http://%s\n", ln.Addr())
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
