// Command hlsmark serves a live, seekable HLS stream of frames made in the
// process, with timeline markers for the events seen in them.
//
//	hlsmark serve        stream the checkerboard over HTTP
//	hlsmark edge         serve, without encoding, the streams encoders put in S3 and PostgreSQL
//	hlsmark bench        encode unpaced and print throughput as JSON
//	hlsmark healthcheck  exit 0 if a server answers /healthz
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/cmd/hlsmark/internal/dirlock"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/metrics"
	"golang.org/x/net/netutil"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs one command and returns the process exit code: 0 on success
// and for help, 1 on a failure at run time, 2 on a bad command line.
func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "hlsmark: no command: want serve, edge, bench or healthcheck (hlsmark -h describes them)")
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:])
	case "edge":
		err = edgeNode(args[1:])
	case "bench":
		err = bench(args[1:])
	case "healthcheck":
		err = healthcheck(args[1:])
	case "-h", "--help", "help":
		writeHelp(os.Stdout)
		return 0
	default:
		err = usagef("unknown command %q (want serve, edge, bench or healthcheck)", args[0])
	}
	var ue usageError
	var help helpRequest
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		help.cl.writeHelp(os.Stdout)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "hlsmark:", ue.msg)
		return 2
	default:
		fmt.Fprintln(os.Stderr, "hlsmark:", err)
		return 1
	}
}

// serve streams until SIGINT or SIGTERM, then stops gracefully: the HTTP
// server drains, the encoder is flushed, and the playlist gets ENDLIST. A
// stream whose input ends is served on (with ENDLIST) until then.
func serve(args []string) error {
	cfg, err := parseServe(args, os.LookupEnv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Debug)
	fileLimit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usagef("--addr %s: %v", cfg.Addr, err)
	}
	// Past the cap, new connections wait in the kernel's backlog until one
	// closes, instead of taking the descriptors the stream needs to write
	// its segments.
	maxConns := connLimit(cfg.MaxConns, fileLimit)
	ln = netutil.LimitListener(ln, maxConns)
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		ln.Close()
		return err
	}
	lock, err := dirlock.Acquire(cfg.Data) // held until the process ends
	if err != nil {
		ln.Close()
		var inUse *dirlock.InUseError
		if errors.As(err, &inUse) {
			return usagef("--data: %v", err)
		}
		return err
	}
	defer lock.Release()
	store, err := openMarkers(cfg.Markers, cfg.Data, len(cfg.Notify.Webhooks) > 0)
	if err != nil {
		ln.Close()
		return err
	}
	defer store.Close() // after follow's ctx ended: it waits for it
	objects, err := openSegments(cfg.Segments)
	if err != nil {
		ln.Close()
		return err
	}
	var segments []time.Duration
	for _, c := range cfg.Streams {
		segments = append(segments, c.Segment)
	}
	m := metrics.New(metrics.Config{Segments: segments})
	notifier, err := newNotifier(cfg.Notify, store.outbox, m, log)
	if err != nil {
		ln.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := newStreamSet(ctx, cfg.Data, cfg.file, store, m, log, func(c streamConfig) (*stream.Stream, error) {
		c.Stdin = os.Stdin
		if notifier != nil {
			c.notifier = notifier
		}
		c.bucket = objects
		return newServedStream(c, clock.Real{}, store, log, nil, m)
	})
	streams.leases = newLeases(store, cfg.Lease, objects, log)
	if notifier != nil {
		// Stopped by ctx with the streams; waited for before the store
		// closes (deferred above), after the streams' last changes.
		notifier.run(ctx, streams)
		defer notifier.wait()
	}
	store.follow(ctx, streams, log)
	for _, c := range cfg.Streams {
		if err := streams.start(c, true); err != nil {
			ln.Close()
			stop()
			return errors.Join(err, streams.wait())
		}
	}
	var changes server.StreamChanges
	if cfg.file != nil {
		changes = streams
	}
	handler := server.New(server.Config{
		Streams:     streams,
		Changes:     changes,
		CORSOrigins: cfg.CORS,
		Token:       cfg.Token,
		Logger:      log,
		Metrics:     m,
		// With --metrics-addr, /metrics is served there only.
		MetricsElsewhere: cfg.MetricsAddr != "",
		Limits:           cfg.Limits,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	srv.RegisterOnShutdown(handler.Shutdown)
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			stop()
			return errors.Join(usagef("--metrics-addr %s: %v", cfg.MetricsAddr, err), streams.wait())
		}
		servers = append(servers, &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, mln)
	}

	httpDone := make(chan error, len(servers))
	for i, s := range servers {
		go func() { httpDone <- s.Serve(listeners[i]) }()
	}
	page := pageURL(ln.Addr())
	for _, c := range cfg.Streams {
		log.Info("serving", "open", page, "playlist", page+"streams/"+c.Name+"/index.m3u8", "data", filepath.Join(cfg.Data, c.Name), "max_conns", maxConns)
	}
	if cfg.MetricsAddr != "" {
		log.Info("metrics", "url", "http://"+listeners[1].Addr().String()+"/metrics")
	}

	runErr := waitForStop(ctx, stop, streams, httpDone, log)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdown); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr == nil || errors.Is(runErr, http.ErrServerClosed) {
		log.Info("stopped")
		return nil
	}
	return runErr
}

// waitForStop waits for SIGINT or SIGTERM (ctx), or for an HTTP server to
// fail, and returns once every stream has stopped, with their errors or
// the server's. A stream whose input ends before that has closed its
// playlist with ENDLIST: its segments and markers are served on until the
// process is stopped. A stream that fails is made again by its supervisor,
// or stays failed: its failure is its state (logged, told by
// /api/streams), not an error.
func waitForStop(ctx context.Context, stop func(), streams *streamSet, httpDone <-chan error, log *slog.Logger) error {
	var httpErr error
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case httpErr = <-httpDone:
		stop()
	}
	return errors.Join(streams.wait(), httpErr)
}

// newLogger returns the process's logger, with libav's log lines in it.
func newLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	pipeline.RouteLibavLogs(log)
	return log
}

// pageURL is the address of the player page on a listener at addr; a
// listener on every interface is reached on loopback.
func pageURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
