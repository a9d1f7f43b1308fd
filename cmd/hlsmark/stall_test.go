package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/server"
)

// pausable is a source that can be made to stop delivering frames, as a
// camera that hangs would.
type pausable struct {
	pipeline.Source
	mu     sync.Mutex
	paused chan struct{} // closed to resume; nil while running
}

func (p *pausable) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = make(chan struct{})
}

func (p *pausable) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.paused)
	p.paused = nil
}

func (p *pausable) Next(ctx context.Context, f *pipeline.Frame) error {
	p.mu.Lock()
	ch := p.paused
	p.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.Source.Next(ctx, f)
}

// startInProcess runs a stream in this process on the real clock, served
// on loopback, and stops it when the test ends. adjust, if set, may change
// the stream's source (see newStream).
func startInProcess(t *testing.T, c streamConfig, wrap func(pipeline.Source) pipeline.Source) (*stream.Stream, *httptest.Server) {
	t.Helper()
	store, err := marker.OpenBolt(filepath.Join(c.Data, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStream(c, clock.Real{}, store, slog.New(slog.NewTextHandler(io.Discard, nil)), wrap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	ts := httptest.NewServer(server.New(server.Config{Streams: server.Fixed{
		{Name: st.Name(), Playlist: st.Playlist(), Markers: st.Markers(), State: st.State},
	}}))
	t.Cleanup(func() {
		ts.Close()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		store.Close()
	})
	return st, ts
}

// TestStalledSourceShowsAndRecovers stops a real-time stream's source: the
// stream shows as stalled in /api/streams, saying the source stopped, and
// /readyz answers 503 while /healthz stays 200; once frames return, the
// stream is live and the server ready again.
func TestStalledSourceShowsAndRecovers(t *testing.T) {
	c := streamConfig{
		Data: t.TempDir(), Name: "demo", Size: media.Size{Width: 160, Height: 120}, FPS: 30,
		Segment: 500 * time.Millisecond, Window: 10 * time.Second, Grace: time.Second,
		Preset: "ultrafast", Tune: "zerolatency", EventEvery: 20 * time.Second, EventDuration: time.Second,
	}
	src := &pausable{}
	st, ts := startInProcess(t, c, func(cb pipeline.Source) pipeline.Source {
		src.Source = cb
		return src
	})
	var reason string
	state := func() string {
		resp, err := http.Get(ts.URL + "/api/streams")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var out struct {
			Streams []struct{ State, Reason string }
		}
		if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Streams) != 1 {
			return ""
		}
		reason = out.Streams[0].Reason
		return out.Streams[0].State
	}
	status := func(path string) int {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	pollUntil(t, "live", 20*time.Second, func() bool { return state() == "live" && len(st.Playlist().Segments()) > 0 })
	if code := status("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz while live: %d", code)
	}
	src.pause()
	pollUntil(t, "stalled", 20*time.Second, func() bool { return state() == "stalled" })
	if !strings.Contains(reason, "no frame from the source") {
		t.Errorf("stalled because %q, want the source named", reason)
	}
	if ready, live := status("/readyz"), status("/healthz"); ready != http.StatusServiceUnavailable || live != http.StatusOK {
		t.Errorf("while stalled: /readyz %d, /healthz %d; want 503 and 200", ready, live)
	}
	src.resume()
	pollUntil(t, "live again", 20*time.Second, func() bool { return state() == "live" })
	if code := status("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz live again: %d", code)
	}
}
