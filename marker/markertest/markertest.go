// Package markertest runs the real pipeline (see pipelinetest) with a
// marker service and a Bolt store attached, wired as `hlsmark serve` wires
// them, for tests of the marker service and the API.
package markertest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// Stream is the stream name markertest runs use.
const Stream = "demo"

// Run is a finished pipeline run with its markers.
type Run struct {
	*pipelinetest.Run
	Service *marker.Service
	Store   *marker.Bolt
}

// Start runs the pipeline to its end with the marker service attached (and
// cfg.Attach's hooks, if set, after the service's), and
// waits for the service to finish its queue and the playlist to publish
// what it set. The store stays open until the test ends.
func Start(t testing.TB, cfg pipelinetest.Config) *Run {
	t.Helper()
	store, err := marker.OpenBolt(filepath.Join(t.TempDir(), "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &Run{Store: store}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	attach := cfg.Attach
	cfg.Attach = func(pr *pipelinetest.Run) pipelinetest.Hooks {
		r.Service = marker.NewService(marker.Config{
			Stream: Stream, Store: store, Playlist: pr.Playlist, Timeline: pr.Timeline, Clock: pr.Clock,
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Service.Run(ctx)
		}()
		hooks := pipelinetest.Hooks{OnDetection: r.Service.Detected, OnSegment: r.Service.Published}
		if attach == nil {
			return hooks
		}
		more := attach(pr)
		return pipelinetest.Hooks{
			OnDetection: func(d media.Detection) {
				hooks.OnDetection(d)
				if more.OnDetection != nil {
					more.OnDetection(d)
				}
			},
			OnSegment: func(s media.Segment) {
				hooks.OnSegment(s)
				if more.OnSegment != nil {
					more.OnSegment(s)
				}
			},
		}
	}
	r.Run = pipelinetest.Start(t, cfg)
	cancel() // Run drains its queue before returning
	wg.Wait()
	if err := r.Playlist.Flush(); err != nil { // the last date ranges published
		t.Fatal(err)
	}
	return r
}
