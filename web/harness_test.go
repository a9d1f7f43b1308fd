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

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
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
	base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// startServer runs `hlsmark serve` with args on a free loopback port and
// waits until it answers. The test stops it, by its PID, when it ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{base: "http://" + addr, out: &syncBuffer{}, done: make(chan error, 1)}
	args = append([]string{"serve", "--addr", addr, "--data", t.TempDir()}, args...)
	s.cmd = exec.Command(binary, args...)
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
			t.Fatalf("hlsmark serve exited before answering: %v\n%s", err, s.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hlsmark serve did not answer /healthz within 30s\n%s", s.out)
		}
	}
}

// stop ends the server with SIGTERM (SIGKILL if it hangs) and logs its
// output if the test failed.
func (s *server) stop(t *testing.T) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("hlsmark serve (pid %d) ignored SIGTERM for 15s", s.cmd.Process.Pid)
	}
	if t.Failed() {
		t.Logf("hlsmark serve output:\n%s", s.out)
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

// waitMarkers waits until the API lists n markers with a stream position.
func (s *server) waitMarkers(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var body struct {
			Markers []struct {
				Sequence *int `json:"sequence"`
			} `json:"markers"`
		}
		s.getJSON(t, "/api/streams/demo/markers", &body)
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
			t.Fatalf("the API lists %d markers with a stream position after %s, want %d", placed, timeout, n)
		}
		time.Sleep(200 * time.Millisecond) // polling the server; no event to wait on
	}
}

// browser is a headless Chromium with one tab, and what its console said.
type browser struct {
	ctx context.Context // the tab's context; no deadline

	mu     sync.Mutex
	errors []string
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
	var wg sync.WaitGroup
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
	wg.Add(3)
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
