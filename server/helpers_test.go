//go:build cgo

package server_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/segcache"
)

// streamName is the stream's name in URLs.
const streamName = "demo"

// hlsFixture is a finished pipeline run, with secret files planted next to
// its stream folder and in that folder's parent, where a path traversal
// would find them.
type hlsFixture struct {
	run *pipelinetest.Run
	// secrets are the planted files' contents: no answer may hold them.
	secrets []string
}

// newHLSFixture runs the real pipeline into a folder tree of the test's
// own: root/secret.txt, the data folder root/<test>/<nnn>/secret.txt (next
// to the store) and the stream folder root/<test>/<nnn>/demo.
func newHLSFixture(t *testing.T) *hlsFixture {
	t.Helper()
	root, err := os.MkdirTemp("", "hlsmark-server-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	t.Setenv("TMPDIR", root) // t.TempDir, in pipelinetest, makes the stream folder under root
	f := &hlsFixture{run: pipelinetest.Start(t, pipelinetest.Config{Frames: 120, Segment: time.Second, Cache: 64 << 20})}
	if parent := filepath.Dir(filepath.Dir(filepath.Dir(f.run.Dir))); parent != root {
		t.Fatalf("stream folder %s is not three levels under %s", f.run.Dir, root)
	}
	for i, dir := range []string{filepath.Dir(f.run.Dir), root} {
		secret := "SECRET-" + string(rune('A'+i)) + "-do-not-serve"
		if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
		f.secrets = append(f.secrets, secret)
	}
	if len(f.run.Playlist.Segments()) < 3 {
		t.Fatalf("%d segments listed, want at least 3", len(f.run.Playlist.Segments()))
	}
	return f
}

// serve starts a real HTTP server on loopback over the fixture's stream,
// wired as hlsmark serve wires it: segments from the stream's cache.
func (f *hlsFixture) serve(t *testing.T, cfg server.Config) *httptest.Server {
	t.Helper()
	return f.serveWith(t, cfg, f.run.Stream.Cache())
}

// serveWith starts a real HTTP server on loopback over the fixture's
// stream, answering segments from cache (nil: from their files).
func (f *hlsFixture) serveWith(t *testing.T, cfg server.Config, cache *segcache.Cache) *httptest.Server {
	t.Helper()
	cfg.Streams = server.Fixed{{Name: streamName, Playlist: f.run.Playlist, Cache: cache}}
	ts := httptest.NewServer(server.New(cfg))
	t.Cleanup(ts.Close)
	return ts
}

// segmentFiles returns the content of every segment the stream lists.
func (f *hlsFixture) segmentFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, s := range f.run.Playlist.Segments() {
		data, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name()] = data
	}
	return out
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends a request and reads the whole answer.
func do(t *testing.T, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// doRaw sends target as the request line's target, byte for byte, with no
// client in between to clean or escape it.
func doRaw(t *testing.T, ts *httptest.Server, target string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: "+ts.Listener.Addr().String()+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// checkJSONError requires a JSON error answer with the given status.
func checkJSONError(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s, want %d with a JSON body: %s", resp.StatusCode, resp.Header.Get("Content-Type"), status, body)
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not {\"error\": ...}: %v", body, err)
	}
}

// ffprobe returns ffprobe's path; its absence fails the test.
func ffprobe(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	return path
}
