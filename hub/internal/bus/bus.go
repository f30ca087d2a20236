// Package bus is hookhub's link to NATS JetStream: an embedded server or a
// connection to an outside one, the subjects, and the streams, consumers and
// buckets the hub keeps its state in, created or updated idempotently.
package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Options says which NATS to use.
type Options struct {
	// URL of an outside NATS server (comma-separated for a cluster). Empty
	// starts an embedded server.
	URL string
	// Listen is the embedded server's client address: host:port, port -1
	// for a free one, or "none" for no network listener at all.
	Listen string
	// DataDir holds the embedded server's JetStream files (DataDir/jetstream).
	DataDir string
	// Prefix is the first token of every subject and the start of every
	// stream name.
	Prefix string
	// Name is the NATS connection name.
	Name string
	// Replicas of every stream and bucket (0 or 1: one copy).
	Replicas int
	// EventRetention is how long events are kept for resends (default 72h).
	EventRetention time.Duration
	// Limits bound the attempt log and the dead letters (zero fields: the
	// defaults).
	Limits LogLimits
	// Users are the embedded server's logins; with any, anonymous clients
	// are refused. A listen address other than loopback needs some.
	Users []User
	// StoreKey, when set, encrypts the embedded server's JetStream files;
	// StoreOldKey is the key they were encrypted with before, while a key
	// is being rotated.
	StoreKey, StoreOldKey string
	// SyncAlways makes the embedded server fsync each JetStream write
	// before acknowledging it; otherwise it fsyncs every SyncInterval (0:
	// nats-server's default, 2 minutes).
	SyncAlways   bool
	SyncInterval time.Duration
	// User and Password, or Creds (a .creds file), log the hub in to an
	// outside NATS.
	User, Password, Creds string
	Log                   zerolog.Logger
}

// Bus is an open link to JetStream.
type Bus struct {
	Server         *server.Server // the embedded server, nil when outside
	NC             *nats.Conn
	JS             jetstream.JetStream
	Names          Names
	Replicas       int
	EventRetention time.Duration
	Limits         LogLimits
	log            zerolog.Logger

	seqMu  sync.Mutex
	seqs   map[string]jetstream.Consumer // each account's sequencer consumer, once known to exist
	seqGen uint64                        // counts ForgetSequencer calls

	archiveMu sync.Mutex
	archive   jetstream.Stream // the archive stream, once looked up (archiveStream)
}

// Open starts the embedded server (when opts.URL is empty) and connects.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	b := &Bus{Names: NewNames(opts.Prefix), Replicas: max(1, opts.Replicas), EventRetention: opts.EventRetention, Limits: opts.Limits.withDefaults(), log: opts.Log}
	if b.EventRetention <= 0 {
		b.EventRetention = DefaultEventRetention
	}
	name := opts.Name
	if name == "" {
		name = "hookhub"
	}
	// What JetStream answers the hub (webhooks with their secrets, the
	// events it consumes) comes on an inbox prefix that publishers, who may
	// subscribe to _INBOX.> for their acks, cannot subscribe to.
	connOpts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.CustomInboxPrefix(HubInboxPrefix),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn().Err(err).Msg("nats disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { b.log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("nats reconnected") }),
	}
	if opts.URL == "" {
		// The hub's own login: in process only, with a password no one
		// outside this process knows.
		hubPassword := randomPassword()
		s, err := StartServerWith(ServerOptions{Listen: opts.Listen, StoreDir: filepath.Join(opts.DataDir, "jetstream"),
			Prefix: b.Names.Prefix, Users: opts.Users, hubPassword: hubPassword, StoreKey: opts.StoreKey, StoreOldKey: opts.StoreOldKey,
			SyncAlways: opts.SyncAlways, SyncInterval: opts.SyncInterval})
		if err != nil {
			return nil, err
		}
		b.Server = s
		connOpts = append(connOpts, nats.InProcessServer(s))
		if len(opts.Users) > 0 {
			connOpts = append(connOpts, nats.UserInfo(HubUser, hubPassword))
		}
	} else {
		switch {
		case opts.Creds != "":
			connOpts = append(connOpts, nats.UserCredentials(opts.Creds))
		case opts.User != "":
			connOpts = append(connOpts, nats.UserInfo(opts.User, opts.Password))
		}
	}
	nc, err := nats.Connect(opts.URL, connOpts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: connect to nats %s: %w", redactURL(opts.URL), err)
	}
	b.NC = nc
	b.JS, err = jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return b, nil
}

// StartServer starts a NATS server with JetStream storing files in storeDir,
// listening on listen ("host:port", port -1 for any, "none" for no listener),
// with no logins: for a loopback address or none.
func StartServer(listen, storeDir string) (*server.Server, error) {
	return StartServerWith(ServerOptions{Listen: listen, StoreDir: storeDir})
}

// ServerOptions are the embedded server's settings.
type ServerOptions struct {
	// Listen is "host:port" (port -1 for any) or "none".
	Listen   string
	StoreDir string
	// Prefix is the subject prefix publishers' permissions are under.
	Prefix string
	// Users are the logins; with any, anonymous clients are refused.
	Users []User
	// StoreKey encrypts the JetStream files (StoreOldKey: the one they
	// were encrypted with before, while rotating).
	StoreKey, StoreOldKey string
	// SyncAlways fsyncs each JetStream write before it is acknowledged;
	// otherwise the files are fsynced every SyncInterval (0: nats-server's
	// default, 2 minutes), and a power loss can take what was acknowledged
	// since the last one.
	SyncAlways   bool
	SyncInterval time.Duration

	hubPassword string
}

// StartServerWith starts a NATS server with JetStream. A listen address
// other than loopback or none is refused without users.
func StartServerWith(o ServerOptions) (*server.Server, error) {
	so := &server.Options{
		ServerName: "hookhub",
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 8 << 20,
		SyncAlways: o.SyncAlways,
	}
	if o.SyncInterval > 0 {
		so.SyncInterval = o.SyncInterval
	}
	if o.Listen == "none" {
		so.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: nats listen address %q: %w", o.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("bus: nats listen port %q: %w", port, err)
		}
		so.Host, so.Port = host, p
		if len(o.Users) == 0 && !loopback(host) {
			return nil, fmt.Errorf("bus: nats listen address %q takes clients from other hosts, and no NATS users are configured "+
				"(anyone reaching it could read every webhook's secrets and publish for any account): configure nats_users, or listen on 127.0.0.1", o.Listen)
		}
	}
	if len(o.Users) > 0 {
		prefix := o.Prefix
		if prefix == "" {
			prefix = "hookhub"
		}
		users, err := serverUsers(o.Users, prefix, o.hubPassword)
		if err != nil {
			return nil, err
		}
		so.Users = users
	}
	if o.StoreKey != "" {
		so.JetStreamKey, so.JetStreamOldKey, so.JetStreamCipher = o.StoreKey, o.StoreOldKey, server.AES
	}
	if err := os.MkdirAll(o.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("bus: data dir: %w", err)
	}
	if err := rekeyConsumers(o.StoreDir, o.StoreKey, o.StoreOldKey); err != nil {
		return nil, err
	}
	s, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("bus: nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, errors.New("bus: embedded nats server did not start within 30s (is the listen address in use, or the data dir encrypted with another secrets key?)")
	}
	return s, nil
}

// ClientURL is where outside clients reach the embedded server ("" when the
// hub uses an outside NATS or listens on no address).
func (b *Bus) ClientURL() string {
	if b.Server == nil || b.Server.Addr() == nil {
		return ""
	}
	return b.Server.ClientURL()
}

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.NC != nil {
		_ = b.NC.Drain()
		for i := 0; i < 100 && !b.NC.IsClosed(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		b.NC.Close()
	}
	if b.Server != nil {
		b.Server.Shutdown()
		b.Server.WaitForShutdown()
	}
}

func redactURL(u string) string {
	parts := strings.Split(u, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if s := strings.Index(p, "://"); s >= 0 && s < at {
				parts[i] = p[:s+3] + "[redacted]" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}
