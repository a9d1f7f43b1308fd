// Command hlsmark serves a live, seekable HLS stream of frames made in the
// process, with timeline markers for the events seen in them.
//
//	hlsmark serve        stream the checkerboard over HTTP
//	hlsmark bench        encode unpaced and print throughput as JSON
//	hlsmark healthcheck  exit 0 if a server answers /healthz
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/internal/dirlock"
	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/server"
)

const usage = `usage: hlsmark <command> [flags]

commands:
  serve        stream the checkerboard as live HLS (see hlsmark serve -h)
  bench        run the pipeline unpaced and print its figures as JSON
  healthcheck  exit 0 if the server at --addr answers /healthz
`

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs one command and returns the process exit code: 0 on success,
// 1 on a failure at run time, 2 on a bad command line.
func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:])
	case "bench":
		err = bench(args[1:])
	case "healthcheck":
		err = healthcheck(args[1:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return 0
	default:
		err = usagef("unknown command %q (want serve, bench or healthcheck)", args[0])
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Printf("usage: hlsmark %s [flags]\n", args[0])
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
// server drains, the encoder is flushed, and the playlist gets ENDLIST.
func serve(args []string) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Debug)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usagef("--addr %s: %v", cfg.Addr, err)
	}
	if err := os.MkdirAll(cfg.Stream.Data, 0o755); err != nil {
		ln.Close()
		return err
	}
	lock, err := dirlock.Acquire(cfg.Stream.Data) // held until the process ends
	if err != nil {
		ln.Close()
		var inUse *dirlock.InUseError
		if errors.As(err, &inUse) {
			return usagef("--data: %v", err)
		}
		return err
	}
	defer lock.Release()
	store, err := marker.OpenBolt(filepath.Join(cfg.Stream.Data, "markers.db"))
	if err != nil {
		ln.Close()
		return err
	}
	defer store.Close()
	st, err := newStream(cfg.Stream, clock.Real{}, store, log)
	if err != nil {
		ln.Close()
		return err
	}
	handler := server.New(server.Config{
		Streams:     []*server.Stream{{Name: st.name, Playlist: st.playlist, Markers: st.markers, Stalled: st.stalled}},
		CORSOrigins: cfg.CORS,
		Token:       cfg.Token,
		Logger:      log,
		Metrics:     st.metrics,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	srv.RegisterOnShutdown(handler.Shutdown)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streamDone := make(chan error, 1)
	go func() { streamDone <- st.run(ctx) }()
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/streams/"+st.name+"/index.m3u8", "data", st.dir)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping")
		runErr = <-streamDone
	case runErr = <-streamDone:
		stop()
	case runErr = <-httpDone:
		stop()
		<-streamDone
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil || errors.Is(runErr, http.ErrServerClosed) {
		log.Info("stopped")
		return nil
	}
	return runErr
}

// newLogger returns the process's logger, with libav's log lines in it.
func newLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	routeLibavLogs(log)
	return log
}

// routeLibavLogs sends libav's warnings and errors to log instead of stderr.
func routeLibavLogs(log *slog.Logger) {
	astiav.SetLogLevel(astiav.LogLevelWarning)
	astiav.SetLogCallback(func(c astiav.Classer, l astiav.LogLevel, _, msg string) {
		lvl := slog.LevelWarn
		if l <= astiav.LogLevelError {
			lvl = slog.LevelError
		}
		log.Log(context.Background(), lvl, "libav", "msg", strings.TrimSpace(msg))
	})
}
