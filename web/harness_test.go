package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// binary is the hlsmark command TestMain built for the end-to-end tests,
// or buildErr says why there is none.
var (
	binary   string
	buildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hlsmark-web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, buildErr = buildHlsmark(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildHlsmark builds cmd/hlsmark into dir. The player must embed hls.js,
// which `make web` puts in static/vendor.
func buildHlsmark(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join("static", "vendor", "hls.min.js")); err != nil {
		return "", fmt.Errorf("hls.js is not in web/static/vendor: run `make web` first (%w)", err)
	}
	bin := filepath.Join(dir, "hlsmark")
	// go test puts its own Go first in PATH.
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hlsmark")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hlsmark: %w\n%s", err, out)
	}
	return bin, nil
}

// syncBuffer collects a process's output for the test log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running `hlsmark serve`.
type server struct {
	base    string // http://127.0.0.1:PORT
	addr    string
	data    string   // its --data folder
	args    []string // the flags after --addr and --data
	cmd     *exec.Cmd
	out     *syncBuffer
	done    chan error
	stopped bool
}

// startServer runs `hlsmark serve` with args on a free loopback port and
// waits until it answers. The test stops it, by its PID, when it ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return launch(t, freeAddr(t), t.TempDir(), args)
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// restart stops the server with SIGTERM and starts it again on the same
// address and data folder, as an operator's restart does: the stream
// resumes its playlist after a discontinuity.
func (s *server) restart(t *testing.T) *server {
	t.Helper()
	s.stop(t)
	return launch(t, s.addr, s.data, s.args)
}

// launch starts `hlsmark serve --addr addr --data data args...` and waits
// until it answers /healthz.
func launch(t *testing.T, addr, data string, args []string) *server {
	t.Helper()
	s := &server{base: "http://" + addr, addr: addr, data: data, args: args, out: &syncBuffer{}, done: make(chan error, 1)}
	return s.start(t, append([]string{"serve", "--addr", addr, "--data", data}, args...))
}

// startEdge runs `hlsmark edge` with args on a free loopback port and
// waits until it answers. The test stops it, by its PID, when it ends.
func startEdge(t *testing.T, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{base: "http://" + addr, addr: addr, args: args, out: &syncBuffer{}, done: make(chan error, 1)}
	return s.start(t, append([]string{"edge", "--addr", addr}, args...))
}

// start runs hlsmark with the command line cmdline and waits until it
// answers /healthz.
func (s *server) start(t *testing.T, cmdline []string) *server {
	t.Helper()
	s.cmd = exec.Command(binary, cmdline...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("hlsmark %s exited before answering: %v\n%s", cmdline[0], err, s.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hlsmark %s did not answer /healthz within 30s\n%s", cmdline[0], s.out)
		}
	}
}

// stop ends the server with SIGTERM (SIGKILL if it hangs) and logs its
// output if the test failed. Stopping a stopped server does nothing.
func (s *server) stop(t *testing.T) {
	if s.stopped {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("hlsmark serve (pid %d) ignored SIGTERM for 15s", s.cmd.Process.Pid)
	}
	if t.Failed() {
		t.Logf("hlsmark %s output:\n%s", s.cmd.Args[1], s.out)
	}
}

// getJSON reads a JSON answer of the server into v.
func (s *server) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// waitMarkers waits until the API lists n markers with a stream position
// on the stream demo.
func (s *server) waitMarkers(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	s.waitStreamMarkers(t, "demo", n, timeout)
}

// waitStreamMarkers waits until the API lists n markers with a stream
// position on stream.
func (s *server) waitStreamMarkers(t *testing.T, stream string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var body struct {
			Markers []struct {
				Sequence *int `json:"sequence"`
			} `json:"markers"`
		}
		s.getJSON(t, "/api/streams/"+stream+"/markers", &body)
		placed := 0
		for _, m := range body.Markers {
			if m.Sequence != nil {
				placed++
			}
		}
		if placed >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API lists %d markers with a stream position on %s after %s, want %d", placed, stream, timeout, n)
		}
		time.Sleep(200 * time.Millisecond) // polling the server; no event to wait on
	}
}

// browser is a headless Chromium with one tab, and what its console said.
type browser struct {
	ctx context.Context // the tab's context; no deadline
	wg  sync.WaitGroup  // the goroutines that read the tab's events

	mu       sync.Mutex
	errors   []string
	requests []*sentRequest                     // every request the page made, in order
	byID     map[network.RequestID]*sentRequest // the same, by id
}

// sentRequest is a request the page made: its URL, and its headers as
// sent over the wire (which the browser reports apart from the request,
// and which hold what the network stack added, such as Last-Event-ID).
// Canceled says the page gave it up before its answer ended (an
// EventSource closed, a fetch aborted).
type sentRequest struct {
	URL      string
	Headers  network.Headers
	Canceled bool
}

// request returns the record of request id, making it if it is new.
// b.mu must be held.
func (b *browser) request(id network.RequestID) *sentRequest {
	r := b.byID[id]
	if r == nil {
		r = &sentRequest{Headers: network.Headers{}}
		if b.byID == nil {
			b.byID = map[network.RequestID]*sentRequest{}
		}
		b.byID[id] = r
		b.requests = append(b.requests, r)
	}
	return r
}

// chromiumPath is where the test looks for the browser; it never downloads one.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium with a fresh profile and records the
// page's console errors, uncaught exceptions, and failed loads.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			t.Fatalf("chromium is needed for the web player's end-to-end test and is not installed (%v); install it with `make setup-test`", err)
		}
		path = p
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{ctx: ctx}
	wg := &b.wg
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		wg.Wait()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	logs := chromedp.Events(ctx, log.EntryAdded)
	sent := chromedp.Events(ctx, network.RequestWillBeSent)
	wire := chromedp.Events(ctx, network.RequestWillBeSentExtraInfo)
	failed := chromedp.Events(ctx, network.LoadingFailed)
	wg.Add(6)
	go func() {
		defer wg.Done()
		for ev, err := range failed {
			if err != nil {
				return
			}
			if ev.Canceled {
				b.mu.Lock()
				b.request(ev.RequestID).Canceled = true
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range sent {
			if err != nil {
				return
			}
			b.mu.Lock()
			r := b.request(ev.RequestID)
			r.URL = ev.Request.URL
			for k, v := range ev.Request.Headers {
				if _, ok := r.Headers[k]; !ok {
					r.Headers[k] = v
				}
			}
			b.mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range wire {
			if err != nil {
				return
			}
			b.mu.Lock()
			r := b.request(ev.RequestID)
			for k, v := range ev.Headers {
				r.Headers[k] = v
			}
			b.mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				b.record("console." + string(ev.Type) + ": " + argsText(ev.Args))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
				msg += " " + ex.Description
			}
			b.record("exception: " + msg)
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range logs {
			if err != nil {
				return
			}
			if ev.Entry.Level == log.EntryLevelError {
				b.record(fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}()
	return b
}

func argsText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func (b *browser) record(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, msg)
}

// requestsTo returns the page's requests so far whose URL contains part,
// as copies.
func (b *browser) requestsTo(part string) []sentRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []sentRequest
	for _, r := range b.requests {
		if strings.Contains(r.URL, part) {
			c := sentRequest{URL: r.URL, Headers: network.Headers{}, Canceled: r.Canceled}
			for k, v := range r.Headers {
				c.Headers[k] = v
			}
			out = append(out, c)
		}
	}
	return out
}

// requestsAfter returns the page's requests whose URL contains part and
// that it made after its first request whose URL contains first (none if
// it made no such request), as copies.
func (b *browser) requestsAfter(first, part string) []sentRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []sentRequest
	seen := false
	for _, r := range b.requests {
		if seen && strings.Contains(r.URL, part) {
			out = append(out, sentRequest{URL: r.URL, Canceled: r.Canceled})
		}
		seen = seen || strings.Contains(r.URL, first)
	}
	return out
}

// consoleErrors returns what the page reported as errors so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// do runs actions with a deadline.
func (b *browser) do(t *testing.T, what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// click moves the mouse onto the element that sel selects, as a person
// does, and then clicks its centre. The page holds still what is under the
// pointer (the timeline's scale, the marker list's rows), so the click finds
// the element where the move found it.
func (b *browser) click(t *testing.T, what, sel string) {
	t.Helper()
	var at []float64
	b.eval(t, fmt.Sprintf(`(() => {
  const r = document.querySelector(%q).getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2];
})()`, sel), &at)
	b.do(t, what, 20*time.Second,
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at[0], at[1]),
		chromedp.Click(chromedp.CSS(sel)))
}

// eval evaluates a JavaScript expression in the page into v.
func (b *browser) eval(t *testing.T, js string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", js, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("evaluate %.60q: decode %s: %v", js, raw, err)
	}
}

// waitFor evaluates js into a fresh T until ok accepts it, polling every
// 100 ms, and fails the test with the last value after timeout.
func waitFor[T any](t *testing.T, b *browser, what string, timeout time.Duration, js string, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var v T
		b.eval(t, js, &v)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last state %+v", what, timeout, v)
		}
		select {
		case <-b.ctx.Done():
			t.Fatalf("%s: %v", what, errors.Unwrap(b.ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// gate changes the network the page sees, without changing the server:
// through DevTools' Fetch domain it pauses the page's requests whose URL
// contains one of its parts, and answers each as its rule says.
type gate struct {
	b     *browser
	parts []string

	mu   sync.Mutex
	rule func(url string) verdict
	held []heldRequest
	seen int // requests the gate saw
}

// verdict is what a gate does with a request: let it through (the zero
// verdict), hold it back until the rule changes, or answer it with status.
type verdict struct {
	hold   bool
	status int64
}

// heldRequest is a request a gate holds back.
type heldRequest struct {
	id  fetch.RequestID
	url string
}

// newGate starts a gate for URLs that contain any of parts, answering by
// rule; call it before the page loads. A tab has one gate at most.
func newGate(t *testing.T, b *browser, rule func(url string) verdict, parts ...string) *gate {
	t.Helper()
	g := &gate{b: b, parts: parts, rule: rule}
	paused := chromedp.Events(b.ctx, fetch.RequestPaused)
	var patterns []*fetch.RequestPattern
	for _, p := range parts {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: "*" + p + "*"})
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: patterns}); err != nil {
		t.Fatalf("enable request interception: %v", err)
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for ev, err := range paused {
			if err != nil {
				return
			}
			g.mu.Lock()
			g.seen++
			v := g.rule(ev.Request.URL)
			if v.hold {
				g.held = append(g.held, heldRequest{ev.RequestID, ev.Request.URL})
			}
			g.mu.Unlock()
			if !v.hold {
				// The tab may be closing: an answer it cannot take is no failure.
				_ = g.answer(b.ctx, ev.RequestID, v)
			}
		}
	}()
	return g
}

// answer lets request id through, or answers it with v.status.
func (g *gate) answer(ctx context.Context, id fetch.RequestID, v verdict) error {
	if v.status != 0 {
		_, err := chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:    id,
			ResponseCode: v.status,
			Body:         []byte("answered by the test"),
		})
		return err
	}
	_, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
	return err
}

// setRule changes the rule, and answers the held requests it no longer holds.
func (g *gate) setRule(t *testing.T, rule func(url string) verdict) {
	t.Helper()
	g.mu.Lock()
	g.rule = rule
	var release []heldRequest
	var verdicts []verdict
	kept := g.held[:0]
	for _, h := range g.held {
		if v := rule(h.url); v.hold {
			kept = append(kept, h)
		} else {
			release = append(release, h)
			verdicts = append(verdicts, v)
		}
	}
	g.held = kept
	g.mu.Unlock()
	for i, h := range release {
		ctx, cancel := context.WithTimeout(g.b.ctx, 10*time.Second)
		err := g.answer(ctx, h.id, verdicts[i])
		cancel()
		if err != nil {
			t.Logf("answer held request %s: %v (the page may have given up on it)", h.url, err)
		}
	}
}

// requests returns how many requests the gate saw.
func (g *gate) requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen
}

// waitRequests waits until the gate saw n requests.
func (g *gate) waitRequests(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for g.requests() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the page made %d requests to %v in %s, want %d", g.requests(), g.parts, timeout, n)
		}
		time.Sleep(50 * time.Millisecond) // polling the gate; the goroutine has no event to wait on
	}
}

// Rules for gates.
var (
	passAll = func(string) verdict { return verdict{} }
	holdAll = func(string) verdict { return verdict{hold: true} }
)

// answerAll answers every request with status.
func answerAll(status int64) func(string) verdict {
	return func(string) verdict { return verdict{status: status} }
}
