//go:build cgo

package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server"
)

// casesWebRoutes covers the player's routes next to the HLS ones.
var casesWebRoutes = []struct {
	name       string
	method     string
	path       string
	wantStatus int
	wantType   string
	wantBody   string
}{
	{"page picks the first stream", http.MethodGet, "/", http.StatusOK, "text/html", "<video"},
	{"page of one stream", http.MethodGet, "/streams/" + streamName, http.StatusOK, "text/html", "<video"},
	{"page head", http.MethodHead, "/streams/" + streamName, http.StatusOK, "text/html", ""},
	{"overview", http.MethodGet, "/overview", http.StatusOK, "text/html", "data-overview"},
	{"page of an unknown stream", http.MethodGet, "/streams/nope", http.StatusNotFound, "application/json", "unknown stream"},
	{"script", http.MethodGet, "/static/js/player.js", http.StatusOK, "text/javascript", "seekToMarker"},
	{"missing static file", http.MethodGet, "/static/js/nope.js", http.StatusNotFound, "", ""},
	{"playlist is not the page", http.MethodGet, "/streams/" + streamName + "/index.m3u8", http.StatusOK, "application/vnd.apple.mpegurl", "#EXTM3U"},
	{"page is read-only", http.MethodPost, "/", http.StatusMethodNotAllowed, "application/json", ""},
}

func TestWebRoutes(t *testing.T) {
	pl, err := playlist.New(playlist.Config{Dir: t.TempDir(), Window: time.Minute, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(server.Config{Streams: server.Fixed{{Name: streamName, Playlist: pl}}}))
	t.Cleanup(ts.Close)
	for _, c := range casesWebRoutes {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, ts.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.wantStatus {
				t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, resp.StatusCode, c.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, c.wantType) {
				t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.path, got, c.wantType)
			}
			if !strings.Contains(string(body), c.wantBody) {
				t.Errorf("%s %s: body lacks %q", c.method, c.path, c.wantBody)
			}
		})
	}
}
