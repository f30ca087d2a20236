package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/procs"
)

func runServe(args []string, _, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--config FILE]", stderr)
	file := fs.String("config", os.Getenv("HOOKHUB_CONFIG"), "config file (env HOOKHUB_CONFIG)")
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
	return serve(ctx, cfg, log, nil)
}

// serve runs a hub until ctx ends; started, when set, is called once the hub
// is ready.
func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, started func(*hub.Hub)) error {
	h, err := hub.New(cfg, hub.WithLogger(log), hub.WithPluginWorker(pluginWorker()...))
	if err != nil {
		return err
	}
	defer h.Close()
	if u := h.NATSURL(); u != "" && cfg.NATSURL == "" {
		log.Info().Str("url", u).Str("data_dir", cfg.DataDir).Msg("embedded NATS JetStream listening for publishers")
	}
	if u := h.ConsoleURL(); u != "" {
		log.Info().Str("url", u).Msg("web console")
	}
	if started != nil {
		started(h)
	}
	stopProcs := adaptProcs(ctx, cfg, log)
	err = h.Run(ctx)
	stopProcs()
	s := h.Stats()
	log.Info().Int64("events", s.Events).Int64("delivered", s.Delivered).Int64("retried", s.Retried).
		Int64("dead_lettered", s.DeadLettered).Int64("rejected", s.Rejected).Msg("stopped cleanly")
	return err
}

// adaptProcs runs the GOMAXPROCS controller when cfg asks for it and
// nothing keeps it off; the func it returns stops it and gives every P
// back.
func adaptProcs(ctx context.Context, cfg *config.Config, log zerolog.Logger) (stop func()) {
	if cfg.Procs != config.ProcsAdaptive {
		return func() {}
	}
	done, why := procs.Start(ctx, procs.Options{}, log)
	if why != "" {
		log.Debug().Str("reason", why).Msg("GOMAXPROCS stays fixed")
	}
	return func() { done() }
}

func newLogger(cfg *config.Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	console := cfg.LogFormat == "console"
	if cfg.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "validate FILE", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(fs.Arg(0), environ())
	if err != nil {
		return err
	}
	if err := hub.Validate(cfg); err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: valid (%d webhooks, %d plugins)\n", fs.Arg(0), len(cfg.Webhooks), len(cfg.Plugins))
	return nil
}

func runVersion(_ []string, stdout, _ io.Writer) error {
	fmt.Fprintln(stdout, "hookhub", hub.Version)
	return nil
}
