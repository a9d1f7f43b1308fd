package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/edge"
)

// edgeArgs are the flags of `hlsmark edge` as typed.
type edgeArgs struct {
	addr, markers, cors string
	debug               bool
	segmentCache        int64
	maxSubscribers      int
	trusted             []netip.Prefix
	token               tokenArgs
	segments            segmentsArgs
}

// edgeFlags returns the flag set of `hlsmark edge`, bound to a.
func edgeFlags(a *edgeArgs) *commandLine {
	cl := newCommandLine("edge", "Serves, without encoding, the streams encoder nodes (serve --segments --markers) put in\nthe object store and PostgreSQL: the player, playlists, segments, the marker API and its\nevents. Any number of edges may stand behind any load balancer; no request is sticky.")
	cl.notes = tokenNotes
	cl.group("Server", func(fs *flag.FlagSet) {
		markersFlag(fs, &a.markers)
		segmentsFlags(fs, &a.segments)
	})
	cl.group("HTTP", func(fs *flag.FlagSet) {
		fs.StringVar(&a.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (0.0.0.0:port: every interface)")
		fs.StringVar(&a.cors, "cors-origin", "", "`origins` allowed cross-origin access, comma-separated, or *")
		fs.BoolVar(&a.debug, "debug", false, "log every request")
		fs.Int64Var(&a.segmentCache, "segment-cache", 64<<20, "`bytes` of each stream's newest segments kept in memory to answer from (64 MiB = 67108864); 0: every segment from the bucket")
		fs.IntVar(&a.maxSubscribers, "max-subscribers", 256, "most open marker event streams (SSE) per stream on this edge; past it, 503 with Retry-After")
		fs.Func("trusted-proxy", "`addresses` or CIDR prefixes, comma-separated, of the proxies in front (a caching tier): the per-client limits count the client their X-Forwarded-For names", func(v string) error {
			var err error
			a.trusted, err = parsePrefixes(v)
			return err
		})
	})
	cl.group("Marker writes", func(fs *flag.FlagSet) { a.token.register(fs) })
	return cl
}

// parsePrefixes reads comma-separated addresses (each its own prefix) or
// CIDR prefixes.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		addr, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q: not an address or a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

// edgeNode serves an edge until SIGINT or SIGTERM.
func edgeNode(args []string) error {
	var a edgeArgs
	cl := edgeFlags(&a)
	if err := cl.parse(args); err != nil {
		return err
	}
	if a.markers == "" {
		return usagef("--markers: an edge needs the encoders' PostgreSQL, postgres://...")
	}
	if a.segments.loc == nil {
		return usagef("--segments: an edge needs the encoders' object store, s3://BUCKET/PREFIX")
	}
	if a.segmentCache < 0 {
		return usagef("--segment-cache %d: must be 0 or more", a.segmentCache)
	}
	if a.maxSubscribers < 1 {
		return usagef("--max-subscribers %d: must be at least 1", a.maxSubscribers)
	}
	token, err := a.token.resolve(cl.FlagSet, os.LookupEnv)
	if err != nil {
		return err
	}
	bucketCfg, err := a.segments.resolve(os.LookupEnv)
	if err != nil {
		return err
	}
	log := newLogger(a.debug)
	ln, err := net.Listen("tcp", a.addr)
	if err != nil {
		return usagef("--addr %s: %v", a.addr, err)
	}
	defer ln.Close()
	objects, err := openSegments(bucketCfg)
	if err != nil {
		return err
	}
	store, err := openMarkers(a.markers, "", false)
	if err != nil {
		return err
	}
	defer store.Close() // after follow's ctx ended: it waits for it
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := edge.NewStreams(objects, store.shared, a.segmentCache, log)
	store.follow(ctx, streams, log)
	var cors []string
	if a.cors != "" {
		cors = strings.Split(a.cors, ",")
	}
	handler := server.New(server.Config{Streams: streams, CORSOrigins: cors, Token: token, Logger: log,
		MaxSubscribers: a.maxSubscribers, TrustedProxies: a.trusted})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(handler.Shutdown)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("edge serving", "open", pageURL(ln.Addr()), "segments", bucketCfg.Location.String())
	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case runErr = <-done:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && runErr == nil {
		runErr = err
	}
	stop()
	if runErr == nil || errors.Is(runErr, http.ErrServerClosed) {
		log.Info("stopped")
		return nil
	}
	return runErr
}
