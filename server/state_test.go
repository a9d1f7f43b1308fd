package server_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server"
)

// casesState are a live stream's conditions and the state /api/streams
// and /readyz give for them: a failed input outranks everything; a
// reconnecting input outranks the stall it causes.
var casesState = []struct {
	name                  string
	failed, lost          error
	stalled               bool
	state, reason, readyz string
	ready                 int
}{
	{"live", nil, nil, false, "live", "", "ready", http.StatusOK},
	{"stalled", nil, nil, true, "stalled", "no frame", "stalled", http.StatusServiceUnavailable},
	{"reconnecting", nil, errors.New("connection refused"), false, "reconnecting", "connection refused", "reconnecting", http.StatusServiceUnavailable},
	{"reconnecting and stalled", nil, errors.New("connection refused"), true, "reconnecting", "connection refused", "reconnecting", http.StatusServiceUnavailable},
	{"failed", errors.New("bad data"), errors.New("connection refused"), true, "failed", "bad data", "failed", http.StatusServiceUnavailable},
}

// TestStreamState serves one open stream under each case's conditions.
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
				Stalled:      func() (bool, string) { return c.stalled, "no frame" },
				Failed:       func() error { return c.failed },
				Reconnecting: func() error { return c.lost },
			}}}))
			defer ts.Close()

			var list struct {
				Streams []struct{ State, Reason string }
			}
			readJSON(t, ts.URL+"/api/streams", http.StatusOK, &list)
			if len(list.Streams) != 1 || list.Streams[0].State != c.state || list.Streams[0].Reason != c.reason {
				t.Errorf("/api/streams: %+v, want state %q, reason %q", list.Streams, c.state, c.reason)
			}
			var ready struct{ Status string }
			readJSON(t, ts.URL+"/readyz", c.ready, &ready)
			if ready.Status != c.readyz {
				t.Errorf("/readyz status %q, want %q", ready.Status, c.readyz)
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
