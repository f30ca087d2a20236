package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
	"github.com/hookhub/hookhub/sdk/signature"
)

func runPublish(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("publish", "publish --account ID --type TYPE [--data JSON] | --file FILE|- (one CloudEvent, or a JSON array of one account's events: a batch)", stderr)
	url := fs.String("nats", envOr("HOOKHUB_NATS_URL", "nats://127.0.0.1:4222"), "NATS server (env HOOKHUB_NATS_URL)")
	user := fs.String("user", os.Getenv("HOOKHUB_NATS_USER"), "NATS user (env HOOKHUB_NATS_USER); its password is read from HOOKHUB_NATS_PASSWORD, never a flag")
	creds := fs.String("creds", os.Getenv("HOOKHUB_NATS_CREDS"), "NATS .creds file (env HOOKHUB_NATS_CREDS), for an outside NATS with JWT logins")
	prefix := fs.String("prefix", envOr("HOOKHUB_SUBJECT_PREFIX", publish.DefaultPrefix), "subject prefix (env HOOKHUB_SUBJECT_PREFIX)")
	file := fs.String("file", "", "a whole CloudEvent as JSON, or a batch (a JSON array of one account's CloudEvents), from this file or - for stdin")
	account := fs.String("account", "", "account the event belongs to")
	typ := fs.String("type", "", "event type, e.g. contact.updated")
	data := fs.String("data", "", "the event's data as a JSON object (default: the type's sample from the catalog)")
	initiator := fs.String("initiator", "", "who caused it: contact, user, system or api")
	lists := fs.String("lists", "", "comma-separated list ids the event concerns")
	via := fs.String("via", "", "how the initiator caused it: import (webhooks with exclude_imports leave it out), or your own word")
	source := fs.String("source", "hookhub/cli", "the event's source")
	id := fs.String("id", "", "event id (default: a random one); republishing an id is de-duplicated")
	viaAPI := fs.Bool("via-api", false, "post the event to the hub's management API (HOOKHUB_API_ADDR, HOOKHUB_API_TOKEN) instead of NATS")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var raw []byte
	if *file != "" {
		var err error
		if *file == "-" {
			raw, err = io.ReadAll(io.LimitReader(os.Stdin, 8<<20))
		} else {
			raw, err = os.ReadFile(*file)
		}
		if err != nil {
			return err
		}
	} else {
		if *account == "" || *typ == "" {
			fs.Usage()
			return errUsage
		}
		e := &event.Event{ID: *id, Source: *source, Type: *typ, Account: *account, Initiator: *initiator, Via: *via, Lists: *lists}
		switch {
		case *data != "":
			if !json.Valid([]byte(*data)) {
				return fmt.Errorf("--data is not valid JSON")
			}
			e.Data = json.RawMessage(*data)
		default:
			if t, ok := schemas.Lookup(*typ); ok {
				e.Data = t.Sample
			}
		}
		publish.Fill(e)
		var err error
		if raw, err = json.Marshal(e); err != nil {
			return err
		}
	}
	if isBatch(raw) {
		return publishBatchFile(raw, *viaAPI, *url, *prefix, *user, *creds, stdout)
	}
	if *viaAPI {
		resp, err := newAPIClient(envOr("HOOKHUB_API_ADDR", "127.0.0.1:8080"), os.Getenv("HOOKHUB_API_TOKEN")).call("POST", "/v1/events", raw)
		if err != nil {
			return err
		}
		var r struct{ ID string }
		_ = json.Unmarshal(resp, &r)
		fmt.Fprintf(stdout, "posted %s to the hub's API\n", r.ID)
		return nil
	}
	auth, err := natsLogin(*user, os.Getenv("HOOKHUB_NATS_PASSWORD"), *creds)
	if err != nil {
		return err
	}
	ack, err := publishNATS(*url, *prefix, raw, auth...)
	if err != nil {
		return err
	}
	e, _ := event.Parse(raw)
	fmt.Fprintf(stdout, "published %s %s to %s, stream %s seq %d\n", e.Type, e.ID, e.NATSSubject(*prefix), ack.Stream, ack.Sequence)
	return nil
}

// publishBatchFile sends a --file that holds a batch, over NATS only.
func publishBatchFile(raw []byte, viaAPI bool, url, prefix, user, creds string, stdout io.Writer) error {
	if viaAPI {
		return errors.New("--via-api takes one event: a batch goes over NATS (leave out --via-api)")
	}
	evs, err := readBatch(raw)
	if err != nil {
		return err
	}
	auth, err := natsLogin(user, os.Getenv("HOOKHUB_NATS_PASSWORD"), creds)
	if err != nil {
		return err
	}
	return publishBatchNATS(url, prefix, evs, stdout, auth...)
}

// natsLogin is how a command logs in to NATS: a user and password, or a
// .creds file, or not at all.
func natsLogin(user, password, creds string) ([]nats.Option, error) {
	switch {
	case creds != "" && user != "":
		return nil, errors.New("give either --creds (HOOKHUB_NATS_CREDS) or --user (HOOKHUB_NATS_USER), not both")
	case creds != "":
		return []nats.Option{nats.UserCredentials(creds)}, nil
	case user != "" && password == "":
		return nil, fmt.Errorf("NATS user %q needs its password in HOOKHUB_NATS_PASSWORD", user)
	case user != "":
		return []nats.Option{nats.UserInfo(user, password)}, nil
	case password != "":
		return nil, errors.New("HOOKHUB_NATS_PASSWORD is set but no user: give --user or HOOKHUB_NATS_USER")
	}
	return nil, nil
}

// publishNATS publishes one CloudEvent and waits for JetStream's ack. A
// publish the server refuses (a user publishing for another account) fails
// at once, saying so, rather than waiting for an ack that never comes.
func publishNATS(url, prefix string, raw []byte, opts ...nats.Option) (*jetstream.PubAck, error) {
	ctx, refuse := context.WithCancelCause(context.Background())
	defer refuse(nil)
	opts = append(opts, nats.Name("hookhub publish"), nats.Timeout(5*time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				refuse(fmt.Errorf("NATS refused the publish (%w): a NATS user may publish only its own account's events", err))
			}
		}))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) {
			return nil, fmt.Errorf("connect to %s: %w (give the NATS user with --user or HOOKHUB_NATS_USER and HOOKHUB_NATS_PASSWORD, or --creds)", redactURLs(url), err)
		}
		return nil, fmt.Errorf("connect to %s: %w", redactURLs(url), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ack, err := publish.New(js, prefix).PublishRaw(tctx, raw)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return nil, cause
	}
	return ack, err
}

// redactURLs hides any password in a comma-separated list of NATS URLs.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := neturl.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

func runSecret(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("secret", flag.ContinueOnError)
	fs.SetOutput(stderr)
	v1a := fs.Bool("v1a", false, "make an ed25519 signing key (whsk_...) for v1a signatures, and print its public key (whpk_...) on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *v1a {
		k, err := signature.NewSigningKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, k.Reveal())
		fmt.Fprintf(stderr, "public key: %s (published in the account's JWKS)\n", k.Public())
		return nil
	}
	s, err := signature.NewSecret()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, s.Reveal())
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
