package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server"
)

// casesState are states a stream's State gives and what /api/streams and
// /readyz make of them: reconnecting, stalled and failed make the server
// not ready.
var casesState = []struct {
	name, state, reason string
	readyz              string
	ready               int
}{
	{"live", "live", "", "ready", http.StatusOK},
	{"starting", "starting", "", "ready", http.StatusOK},
	{"ended", "ended", "", "ready", http.StatusOK},
	{"stalled", "stalled", "no frame", "stalled", http.StatusServiceUnavailable},
	{"reconnecting", "reconnecting", "connection refused", "reconnecting", http.StatusServiceUnavailable},
	{"failed", "failed", "bad data", "failed", http.StatusServiceUnavailable},
}

// TestStreamState serves one stream in each case's state.
func TestStreamState(t *testing.T) {
	for _, c := range casesState {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Minute, Grace: 2 * time.Minute, Target: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(server.New(server.Config{Streams: server.Fixed{{
				Name: "demo", Playlist: pl,
				State: func() (string, string) { return c.state, c.reason },
			}}}))
			defer ts.Close()

			var list struct {
				Streams []struct{ State, Reason string }
			}
			readJSON(t, ts.URL+"/api/streams", http.StatusOK, &list)
			if len(list.Streams) != 1 || list.Streams[0].State != c.state || list.Streams[0].Reason != c.reason {
				t.Errorf("/api/streams: %+v, want state %q, reason %q", list.Streams, c.state, c.reason)
			}
			var ready struct {
				Status  string
				Streams map[string]string
			}
			readJSON(t, ts.URL+"/readyz", c.ready, &ready)
			if ready.Status != c.readyz {
				t.Errorf("/readyz status %q, want %q", ready.Status, c.readyz)
			}
			if c.ready != http.StatusOK && !strings.Contains(ready.Streams["demo"], c.reason) {
				t.Errorf("/readyz says of demo %q, want the reason %q", ready.Streams["demo"], c.reason)
			}
		})
	}
}

// readJSON gets url, expects status code, and decodes the body into v.
func readJSON(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, code)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
