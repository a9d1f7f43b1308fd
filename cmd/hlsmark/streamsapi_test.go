package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// request sends method to path with body (JSON, or none if empty) and the
// bearer token if given; it returns the status and the body.
func (s *childServer) request(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestStreamsAPI starts, replaces, deletes and purges streams through the
// API of a server run from a config file, and restarts it: the file
// written back runs the same set.
func TestStreamsAPI(t *testing.T) {
	const token = "t0ken"
	data, addr := t.TempDir(), freeAddr(t)
	config := writeConfig(t, fmt.Sprintf(`# the test's server
addr: %s
data: %s
token: %s
streams:
  # the stream that is there from the start
  - name: first
    size: 320x240
    segment: 1s
    preset: ultrafast
`, addr, data, token))
	start := func() *childServer {
		return startChild(t, nil, addr, []string{cliBinary(t), "serve", "--config", config})
	}
	s := start()
	pollUntil(t, "first live", time.Minute, func() bool { st, _ := s.on("first").streamState(); return st == "live" })

	// Refusals change nothing.
	for _, c := range []struct {
		token, body string
		code        int
		want        string
	}{
		{"", `{"size":"320x240"}`, 401, "token"},
		{"wrong", `{"size":"320x240"}`, 401, "token"},
		{token, `{"size":"huge"}`, 400, "size"},
		{token, `{"fps":[25]}`, 400, "fps"},
		{token, `{"colour":"red"}`, 400, "colour"},
		{token, `{"name":"other"}`, 400, "name"},
		{token, `{"input":"-"}`, 400, "input"},
		{token, `{"size":`, 400, "body"},
		{token, `[1]`, 400, "object"},
	} {
		if code, body := s.request(t, http.MethodPut, "/api/streams/second", c.token, c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("PUT %s with token %q: %d %s, want %d naming %s", c.body, c.token, code, body, c.code, c.want)
		}
	}
	if code, body := s.request(t, http.MethodPut, "/api/streams/Bad%20Name", token, `{}`); code != 400 || !strings.Contains(body, "stream") {
		t.Errorf("PUT a bad name: %d %s", code, body)
	}
	if states := listStreams(t, s); len(states) != 1 {
		t.Fatalf("after refused PUTs /api/streams lists %v", states)
	}

	// Made, then replaced: its playlist goes on with a discontinuity.
	if code, body := s.request(t, http.MethodPut, "/api/streams/second", token, `{"size":"320x240","segment":"1s","preset":"ultrafast","fps":25}`); code != 201 {
		t.Fatalf("PUT a new stream: %d %s", code, body)
	}
	second := s.on("second")
	pollUntil(t, "second listing 2 segments", time.Minute, func() bool {
		pl, err := second.playlist()
		return err == nil && pl != nil && len(segments(pl)) >= 2
	})
	before := len(segments(second.mustPlaylist(t)))
	if code, body := s.request(t, http.MethodPut, "/api/streams/second", token, `{"size":"320x240","segment":"1s","preset":"ultrafast","fps":30}`); code != 200 {
		t.Fatalf("PUT over a running stream: %d %s", code, body)
	}
	pollUntil(t, "the replacement listing", time.Minute, func() bool {
		pl, err := second.playlist()
		return err == nil && pl != nil && len(segments(pl)) > before+1
	})
	pl := second.mustPlaylist(t)
	if pl.Closed {
		t.Error("the replaced stream's playlist ended")
	}
	discontinuities := 0
	for _, seg := range segments(pl) {
		if seg.Discontinuity {
			discontinuities++
		}
	}
	if discontinuities != 1 {
		t.Errorf("%d discontinuities in the replaced stream's playlist, want 1 where the replacement took over", discontinuities)
	}
	if got := listStreams(t, s)["second"]; got.FPS != 30 {
		t.Errorf("/api/streams lists the replaced stream at %d fps, want 30", got.FPS)
	}

	// Deleted: ended, served on, gone from the file.
	if code, body := s.request(t, http.MethodDelete, "/api/streams/first", token, ""); code != 204 {
		t.Fatalf("DELETE first: %d %s", code, body)
	}
	if pl := s.on("first").mustPlaylist(t); !pl.Closed {
		t.Error("a deleted stream's playlist has no EXT-X-ENDLIST")
	}
	if st, _ := s.on("first").streamState(); st != "ended" {
		t.Errorf("a deleted stream is %q, want ended", st)
	}
	if code, _ := s.request(t, http.MethodDelete, "/api/streams/nosuch", token, ""); code != 404 {
		t.Errorf("DELETE an unknown stream: %d, want 404", code)
	}
	f, err := readConfigFile(config)
	if err != nil {
		t.Fatal(err)
	}
	written, err := f.streams(data)
	if err != nil || len(written) != 1 || written[0].Name != "second" || written[0].FPS != 30 {
		t.Fatalf("the config file written back holds %+v (err %v), want second at 30 fps alone", written, err)
	}
	if b, _ := os.ReadFile(config); !strings.Contains(string(b), "# the test's server") {
		t.Errorf("writing the file back lost its comments:\n%s", b)
	}

	// A restart runs the file's set: second, going on.
	s.stop(t, syscall.SIGTERM)
	s = start()
	second = s.on("second")
	pollUntil(t, "second live again", time.Minute, func() bool { st, _ := second.streamState(); return st == "live" })
	if got := listStreams(t, s); len(got) != 1 {
		t.Errorf("after the restart /api/streams lists %d streams, want second alone", len(got))
	}

	// Purged: its folder and markers go, the first's too (after a restart).
	pl = second.mustPlaylist(t)
	first := decodedPTSIn(t, pl, filepath.Join(data, "second"))[pl.SeqNo][0]
	if code, body := s.request(t, http.MethodPost, "/api/streams/second/markers", token, fmt.Sprintf(`{"label":"until purged","pts":%d}`, first)); code != 201 {
		t.Fatalf("POST a marker: %d %s", code, body)
	}
	for _, name := range []string{"second", "first"} {
		if code, body := s.request(t, http.MethodDelete, "/api/streams/"+name+"?purge=true", token, ""); code != 204 {
			t.Fatalf("DELETE %s?purge=true: %d %s", name, code, body)
		}
		if _, err := os.Stat(filepath.Join(data, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the folder of purged %s: %v, want it gone", name, err)
		}
		if code, _ := s.get("/api/streams/" + name + "/markers"); code != 404 {
			t.Errorf("the markers of purged %s answer %d, want 404", name, code)
		}
	}
	code, b := s.get("/api/streams")
	var out struct{ Streams []json.RawMessage }
	if code != 200 || json.Unmarshal(b, &out) != nil || len(out.Streams) != 0 {
		t.Errorf("/api/streams after purging every stream: %d %s", code, b)
	}
	s.stop(t, syscall.SIGTERM)
}
