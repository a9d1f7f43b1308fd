//go:build cgo

package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/metrics"
)

// The hostile fixture's write token and allowed CORS origin.
const (
	hostileToken  = "hostile-token-7f3a"
	hostileOrigin = "https://player.example"
)

// hostileFixture is a real server (marker API with a token, CORS, metrics,
// the web page) over a finished pipelinetest run: real pipeline, real Bolt
// store. Secret files are planted in the stream folder, beside it and
// above it, where a path traversal would look.
type hostileFixture struct {
	run *pipelinetest.Run
	srv *server.Server
	// secrets are the planted files' contents: no answer may hold them.
	secrets []string
}

// newHostileFixture runs the pipeline with markers into a folder tree of
// its own: root/secret.txt, secret.txt in the data folder root/<test>/<nnn>
// (next to the stream folder and the store) and, in the stream folder
// root/<test>/<nnn>/demo, secret.txt and a segment-named file the playlist
// never listed.
func newHostileFixture(tb testing.TB) *hostileFixture {
	tb.Helper()
	root, err := os.MkdirTemp("", "hlsmark-hostile-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	tb.Setenv("TMPDIR", root) // t.TempDir, in pipelinetest, makes the folders under root
	run := pipelinetest.Start(tb, pipelinetest.Config{
		Frames: 120, Segment: time.Second, Seed: 2, EventEvery: 1500 * time.Millisecond, EventDuration: 300 * time.Millisecond,
	})
	if parent := filepath.Dir(filepath.Dir(filepath.Dir(run.Dir))); parent != root {
		tb.Fatalf("stream folder %s is not three levels under %s", run.Dir, root)
	}
	fx := &hostileFixture{run: run}
	plant := map[string]string{
		filepath.Join(root, "secret.txt"):                    "SECRET-ROOT-do-not-serve",
		filepath.Join(filepath.Dir(run.Dir), "secret.txt"):   "SECRET-PARENT-do-not-serve",
		filepath.Join(run.Dir, "secret.txt"):                 "SECRET-STREAM-do-not-serve",
		filepath.Join(run.Dir, "4000000000.ts"):              "SECRET-UNLISTED-do-not-serve",
		filepath.Join(filepath.Dir(run.Dir), "index.m3u8"):   "SECRET-PLAYLIST-do-not-serve",
		filepath.Join(filepath.Dir(run.Dir), "openapi.json"): "SECRET-API-do-not-serve",
	}
	for path, secret := range plant {
		if err := os.WriteFile(path, []byte(secret), 0o644); err != nil {
			tb.Fatal(err)
		}
		fx.secrets = append(fx.secrets, secret)
	}
	if len(run.Playlist.Segments()) < 3 {
		tb.Fatalf("%d segments listed, want at least 3", len(run.Playlist.Segments()))
	}
	fx.srv = server.New(server.Config{
		Streams:     server.Fixed{{Name: pipelinetest.Stream, Playlist: run.Playlist, Markers: run.Markers}},
		CORSOrigins: []string{hostileOrigin},
		Token:       hostileToken,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:     metrics.New(metrics.Config{Segments: []time.Duration{time.Second}}),
		Limits:      server.RoomyLimits,
	})
	return fx
}

// markers returns the stream's markers with IDs above after.
func (fx *hostileFixture) markers(tb testing.TB, after marker.ID) []marker.Marker {
	tb.Helper()
	ms, err := fx.run.Store.List(context.Background(), pipelinetest.Stream, after, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

// rev returns the stream's latest revision in the store.
func (fx *hostileFixture) rev(tb testing.TB) marker.Rev {
	tb.Helper()
	rev, err := fx.run.Store.Rev(context.Background(), pipelinetest.Stream)
	if err != nil {
		tb.Fatal(err)
	}
	return rev
}

// hostileRequest is one fuzzed request: the request line's method and
// target (sent byte for byte, so %-encodings, backslashes and dot segments
// reach the server as a client wrote them), the query, a few headers and
// the body.
type hostileRequest struct {
	method, target, query                                string
	lastEventID, contentType, authorization, rng, origin string
	body                                                 []byte
}

// raw renders the request as it goes on the wire, or reports false if a
// field would break the request's framing (a line break in the request
// line or a header, which the test would then be fuzzing itself).
func (r hostileRequest) raw() ([]byte, bool) {
	target := r.target
	if r.query != "" {
		target += "?" + r.query
	}
	headers := [][2]string{
		{"Last-Event-ID", r.lastEventID}, {"Content-Type", r.contentType},
		{"Authorization", r.authorization}, {"Range", r.rng}, {"Origin", r.origin},
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: hlsmark.test\r\n", r.method, target)
	if strings.ContainsAny(r.method+target, "\r\n") {
		return nil, false
	}
	for _, h := range headers {
		if strings.ContainsAny(h[1], "\r\n") {
			return nil, false
		}
		if h[1] != "" {
			b.WriteString(h[0] + ": " + h[1] + "\r\n")
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.body))
	b.Write(r.body)
	return b.Bytes(), true
}

// captured is an answer as the handler wrote it. It ends an event stream
// once it has started (cancel), and takes at most limit body bytes, as a
// client that hung up would.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
	cancel context.CancelFunc
}

// The most body bytes a captured answer keeps.
const (
	captureLimit = 4 << 20
	streamLimit  = 64 << 10
)

var errHungUp = fmt.Errorf("test client hung up")

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(code int) {
	if c.status != 0 {
		return
	}
	c.status = code
	if c.stream() {
		c.cancel() // the stream started: that is all the test needs of it
	}
}

func (c *captured) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	limit := captureLimit
	if c.stream() {
		limit = streamLimit
	}
	if c.body.Len()+len(b) > limit {
		return 0, errHungUp
	}
	return c.body.Write(b)
}

func (c *captured) Flush() {}

func (c *captured) stream() bool {
	return strings.HasPrefix(c.header.Get("Content-Type"), "text/event-stream")
}

// serve runs the handler on req, bounded by a short deadline (the event
// stream never ends on its own), and reports a panic with its stack.
func (fx *hostileFixture) serve(t *testing.T, req *http.Request) *captured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := &captured{header: http.Header{}, cancel: cancel}
	done := make(chan string, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Sprintf("%v\n%s", p, debug.Stack())
				return
			}
			done <- ""
		}()
		fx.srv.ServeHTTP(c, req.WithContext(ctx))
	}()
	select {
	case p := <-done:
		if p != "" {
			t.Fatalf("%s %s: handler panicked: %s", req.Method, req.RequestURI, p)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s: handler still running 10s after a 2s deadline", req.Method, req.RequestURI)
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c
}

// check sends r and holds the answer to the invariants every route keeps
// whatever it is sent: no panic, no 5xx, no planted secret (unless the
// request carried it itself), no redirect off the site, a JSON error on
// every 4xx under /api/, an event stream only as a 200, and no change to
// the store but by a 2xx POST, which adds exactly one marker, or a 2xx
// PATCH or DELETE, which adds none and makes one revision.
func (fx *hostileFixture) check(t *testing.T, r hostileRequest) {
	raw, ok := r.raw()
	if !ok {
		return
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return // net/http answers 400 itself; no handler sees it
	}
	req.RemoteAddr = "192.0.2.1:4321"
	last := fx.markers(t, 0)
	var lastID marker.ID
	if len(last) > 0 {
		lastID = last[len(last)-1].ID
	}
	revBefore := fx.rev(t)

	c := fx.serve(t, req)
	what := fmt.Sprintf("%s %q -> %d", req.Method, req.RequestURI, c.status)

	if c.status >= 500 {
		t.Fatalf("%s: a 5xx: %.300s", what, c.body.Bytes())
	}
	var answer bytes.Buffer
	for k, vs := range c.header {
		fmt.Fprintf(&answer, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	answer.Write(c.body.Bytes())
	for _, s := range fx.secrets {
		if bytes.Contains(answer.Bytes(), []byte(s)) && !bytes.Contains(raw, []byte(s)) {
			t.Fatalf("%s: the answer holds planted secret %q", what, s)
		}
	}
	if bytes.Contains(answer.Bytes(), []byte("root:x:0:0:")) && !bytes.Contains(raw, []byte("root:x:0:0:")) {
		t.Fatalf("%s: the answer holds /etc/passwd", what)
	}
	if loc := c.header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || strings.HasPrefix(loc, `\`) {
			t.Fatalf("%s: Location %q leaves the site", what, loc)
		}
	}
	preflight := req.Method == http.MethodOptions && req.Header.Get("Origin") == hostileOrigin
	if c.status >= 400 && strings.HasPrefix(req.URL.Path, "/api/") && req.Method != http.MethodHead && !preflight {
		var e map[string]any
		var msg string
		if err := json.Unmarshal(c.body.Bytes(), &e); err == nil {
			msg, _ = e["error"].(string)
		}
		if !strings.HasPrefix(c.header.Get("Content-Type"), "application/json") || msg == "" {
			t.Fatalf("%s: a 4xx under /api/ must be a JSON object with a non-empty \"error\"; got %q %.300q",
				what, c.header.Get("Content-Type"), c.body.Bytes())
		}
	}
	if c.stream() && c.status != http.StatusOK {
		t.Fatalf("%s: an event stream with status %d", what, c.status)
	}

	added := fx.markers(t, lastID)
	revAfter := fx.rev(t)
	if req.Method == http.MethodPost && c.status/100 == 2 {
		if len(added) != 1 || revAfter != revBefore+1 {
			t.Fatalf("%s: a 2xx POST added %d markers and moved the revision from %d to %d; want one marker, one revision",
				what, len(added), revBefore, revAfter)
		}
		return
	}
	if (req.Method == http.MethodPatch || req.Method == http.MethodDelete) && c.status/100 == 2 {
		if len(added) != 0 || revAfter != revBefore+1 {
			t.Fatalf("%s: a 2xx %s added %d markers and moved the revision from %d to %d; want no marker, one revision",
				what, req.Method, len(added), revBefore, revAfter)
		}
		return
	}
	if len(added) != 0 || revAfter != revBefore {
		t.Fatalf("%s: the store changed (%d markers added, revision %d to %d) without a 2xx POST, PATCH or DELETE",
			what, len(added), revBefore, revAfter)
	}
}

// FuzzHandlers sends hostile requests to every route of a real server and
// holds every answer to hostileFixture.check. The seed corpus reaches every
// route, with the classic hostile values in paths, queries, headers and
// bodies.
func FuzzHandlers(f *testing.F) {
	fx := newHostileFixture(f)
	for _, r := range seedsHostile(fx) {
		f.Add(r.method, r.target, r.query, r.lastEventID, r.contentType, r.authorization, r.rng, r.origin, r.body)
	}
	f.Fuzz(func(t *testing.T, method, target, query, lastEventID, contentType, authorization, rng, origin string, body []byte) {
		fx.check(t, hostileRequest{
			method: method, target: target, query: query,
			lastEventID: lastEventID, contentType: contentType, authorization: authorization, rng: rng, origin: origin,
			body: body,
		})
	})
}
