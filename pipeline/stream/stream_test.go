//go:build cgo

package stream_test

import (
	"context"
	"fmt"
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

// stuckStore is a real Bolt store whose writes wait until released, as a
// store stuck on its disk, or behind a flood of other writers, would.
type stuckStore struct {
	*marker.Bolt
	release chan struct{}
}

func (s *stuckStore) wait(ctx context.Context) error {
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stuckStore) Add(ctx context.Context, stream string, m marker.Marker) (marker.Marker, error) {
	if err := s.wait(ctx); err != nil {
		return m, err
	}
	return s.Bolt.Add(ctx, stream, m)
}

func (s *stuckStore) Update(ctx context.Context, stream string, id marker.ID, fn func(*marker.Marker)) (marker.Marker, error) {
	if err := s.wait(ctx); err != nil {
		return marker.Marker{}, err
	}
	return s.Bolt.Update(ctx, stream, id, fn)
}

// TestPipelineDoesNotWaitOnMarkers runs a stream whose marker store cannot
// write, under a flood of marker POSTs that all hang on it: every frame
// is still encoded and every segment listed, so neither the pipeline nor
// the playlist waits on the store or on HTTP. Once the store is released,
// every post is answered 201 and stored, and so is every detection.
func TestPipelineDoesNotWaitOnMarkers(t *testing.T) {
	const frames = 240 // 8 s: 8 segments, 4 events
	dir := t.TempDir()
	bolt, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	store := &stuckStore{Bolt: bolt, release: make(chan struct{})}
	epoch := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(epoch, nil)
	var mu sync.Mutex
	var segments []media.Segment
	var source *pipeline.Checkerboard
	st, err := stream.New(stream.Config{
		Name: "demo", Dir: filepath.Join(dir, "demo"), Segment: time.Second, Window: time.Hour, Grace: 2 * time.Hour,
		Encoder: pipeline.EncoderConfig{Size: media.Size{Width: 160, Height: 120}, FPS: 30, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: time.Second},
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			clk, tl := at.Clock, at.Timeline
			src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
				Size: media.Size{Width: 160, Height: 120}, FPS: 30, Block: 20,
				EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond, EventFixed: true, Seed: 1,
			}, clk, tl)
			source = src
			return pipeline.Limit(src, frames), err
		},
		Detector: pipeline.NewMintDetector,
		Clock:    clk, Epoch: epoch, Store: store,
		Observe: stream.Observer{Segment: func(s media.Segment) {
			mu.Lock()
			defer mu.Unlock()
			segments = append(segments, s)
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(server.Config{
		Streams: server.Fixed{{Name: "demo", Playlist: st.Playlist(), Markers: st.Markers()}},
		Limits:  server.Limits{PostRate: 1e6, PostBurst: 1 << 20, StreamMarkersPerMinute: 1 << 20},
	}))
	defer ts.Close()

	// The flood: posts that hang on the store, from the first moment.
	const posts = 50
	codes := make(chan int, posts)
	var flood sync.WaitGroup
	for i := range posts {
		flood.Add(1)
		go func() {
			defer flood.Done()
			body := fmt.Sprintf(`{"label":"flood %d","time":"%s"}`, i, epoch.Format(time.RFC3339Nano))
			resp, err := http.Post(ts.URL+"/api/streams/demo/markers", "application/json", strings.NewReader(body))
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}

	done := make(chan error, 1)
	go func() { done <- st.Run(context.Background()) }()
	// Every frame encoded and every segment listed while the store is
	// stuck. (Run itself returns only once the marker service has
	// finished its queue, which waits on the store.)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		made := len(segments)
		mu.Unlock()
		if st.Stats().Frames.Load() == frames && made >= 8 && len(st.Playlist().Segments()) == made {
			break
		}
		if time.Now().After(deadline) {
			close(store.release)
			<-done
			t.Fatalf("with the marker store stuck, %d frames of %d encoded and %d segments made, %d listed: the pipeline waits on it",
				st.Stats().Frames.Load(), frames, made, len(st.Playlist().Segments()))
		}
		time.Sleep(10 * time.Millisecond) // polling counters; nothing to wait on
	}
	select {
	case c := <-codes:
		t.Fatalf("a post was answered (%d) while the store could not write", c)
	default:
	}

	close(store.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	flood.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusCreated {
			t.Errorf("a post got %d once the store was released, want 201", c)
		}
	}
	ms, err := bolt.List(context.Background(), "demo", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if events := len(source.Events()); len(ms) != posts+events || events < 3 {
		t.Errorf("%d markers stored, want the %d posted and the %d detected", len(ms), posts, events)
	}
}
