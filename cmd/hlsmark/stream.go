package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/internal/epoch"
	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server/metrics"
)

// stream is one running stream: its pipeline and the playlist it feeds.
type stream struct {
	name     string
	dir      string
	source   *pipeline.Checkerboard
	encoder  *pipeline.Encoder
	muxer    *muxer.Muxer
	playlist *playlist.Playlist
	pipeline *pipeline.Pipeline
	markers  *marker.Service
	metrics  *metrics.Metrics

	clk       clock.Clock
	timeline  clock.Timeline
	stallTime time.Duration
	lastFrame atomic.Int64 // when the last frame came, as ns since the epoch
}

// newStream wires source → detector → encoder → muxer → playlist for one
// stream, paced by clk, with its markers kept in store.
func newStream(c streamConfig, clk clock.Clock, store marker.Store, log *slog.Logger) (_ *stream, err error) {
	s := &stream{name: c.Name, dir: filepath.Join(c.Data, c.Name), clk: clk,
		metrics:   metrics.New(metrics.Config{Segment: c.Segment}),
		stallTime: max(time.Second, 5*time.Second/time.Duration(c.FPS))}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	timeline, err := loadTimeline(s.dir, clk, log)
	if err != nil {
		return nil, err
	}
	s.timeline = timeline
	s.lastFrame.Store(int64(clk.Now().Sub(timeline.Epoch)))
	window := c.Window
	if window == 0 {
		window = c.Segment
	}
	if s.playlist, err = playlist.New(playlist.Config{Dir: s.dir, Window: window, Grace: c.Grace, Target: c.Segment, Now: clk.Now,
		Deleted: func(media.Segment) { s.metrics.SegmentDeleted() }}); err != nil {
		return nil, err
	}
	first, err := muxer.Sweep(s.dir, func(seq media.Seq) bool { _, ok := s.playlist.Segment(seq); return ok })
	if err != nil {
		return nil, err
	}
	first = max(first, s.playlist.NextSeq())
	if s.source, err = pipeline.NewCheckerboard(c.source(), clk, timeline); err != nil {
		return nil, err
	}
	if s.encoder, err = pipeline.NewEncoder(c.encoder()); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.encoder.Close()
		}
	}()
	s.muxer, err = muxer.New(muxer.Config{
		Dir: s.dir, Target: c.Segment, FirstSeq: first, Size: c.Size, FPS: c.FPS, Timeline: timeline,
		Publish: func(seg media.Segment) error {
			// A failed playlist write or segment deletion is logged, not
			// fatal: the segment is listed in memory, and the next write
			// may succeed.
			if err := s.playlist.Add(seg); err != nil {
				log.Error("playlist", "stream", s.name, "err", err)
			}
			s.metrics.SegmentPublished(seg.Start, time.Now())
			s.markers.Published(seg)
			log.Debug("segment", "stream", s.name, "seq", seg.Seq, "pts", int64(seg.FirstPTS), "duration", seg.Duration.Duration(), "bytes", seg.Size)
			return nil
		},
		OnError: func(err error) {
			s.metrics.SegmentFailed()
			log.Error("segment lost", "stream", s.name, "err", err)
		},
	})
	if err != nil {
		return nil, err
	}
	s.markers = marker.NewService(marker.Config{
		Stream: s.name, Store: store, Playlist: s.playlist, Timeline: timeline, Clock: clk, Log: log,
		OnAdded: func(m marker.Marker) {
			if m.Source == marker.FromDetector {
				s.metrics.MarkerDetected()
			} else {
				s.metrics.MarkerPosted()
			}
		},
	})
	if err := s.markers.Restore(context.Background()); err != nil {
		return nil, err
	}
	s.pipeline = &pipeline.Pipeline{
		Source:      s.source,
		Encoder:     s.encoder,
		Sink:        s.muxer,
		OnDetection: s.markers.Detected,
		OnFrame:     s.onFrame(),
		OnEncoded:   func(_ *pipeline.Frame, took time.Duration) { s.metrics.FrameEncoded(took) },
		OnReject: func(f *pipeline.Frame, err error) {
			s.metrics.FrameRejected()
			log.Error("frame rejected", "stream", s.name, "pts", int64(f.PTS), "err", err)
		},
	}
	return s, nil
}

// onFrame returns the pipeline's OnFrame hook: it notes when the frame came
// (see stalled) and passes the frames the source skipped since the last
// one to the metrics.
func (s *stream) onFrame() func(*pipeline.Frame) {
	var seen uint64
	return func(*pipeline.Frame) {
		s.lastFrame.Store(int64(s.clk.Now().Sub(s.timeline.Epoch)))
		n := s.source.Late()
		s.metrics.FramesLate(n - seen)
		seen = n
	}
}

// stalled reports whether the source has delivered no frame for a while
// (a second, or five frame intervals at low rates).
func (s *stream) stalled() bool {
	since := time.Duration(int64(s.clk.Now().Sub(s.timeline.Epoch)) - s.lastFrame.Load())
	return since > s.stallTime
}

// epochFile keeps a stream's epoch, the wall-clock time of PTS 0, so that
// after a restart PTS keep counting from it: program date times stay true,
// and the markers and segments of earlier runs keep their places.
const epochFile = "epoch"

// loadTimeline returns the stream's timeline, reading its epoch from the
// stream folder or, for a new stream, making now the epoch and saving it
// (see epoch.Load; segments were recorded if the playlist's state file is
// there).
func loadTimeline(dir string, clk clock.Clock, log *slog.Logger) (clock.Timeline, error) {
	_, err := os.Stat(filepath.Join(dir, playlist.StateFile))
	e, err := epoch.Load(filepath.Join(dir, epochFile), clk.Now(), err == nil)
	if err != nil {
		return clock.Timeline{}, err
	}
	if e.Replaced != "" {
		log.Warn("epoch file held no time, left by a first start that failed; starting the stream's timeline now",
			"stream", filepath.Base(dir), "held", e.Replaced)
	}
	return clock.Timeline{Epoch: e.Epoch}, nil
}

// run runs the pipeline until ctx ends, then closes the playlist with
// EXT-X-ENDLIST, lets the marker service finish its queue, waits for the
// playlist's last writes, and frees the encoder.
func (s *stream) run(ctx context.Context) (runErr error) {
	defer s.encoder.Close()
	mctx, stopMarkers := context.WithCancel(context.WithoutCancel(ctx))
	markersDone := make(chan struct{})
	go func() {
		defer close(markersDone)
		s.markers.Run(mctx)
	}()
	defer func() {
		stopMarkers()
		<-markersDone
		// The markers closed last (cut at the stream's end) on disk too.
		if err := s.playlist.Flush(); err != nil && runErr == nil {
			runErr = fmt.Errorf("stream %s: %w", s.name, err)
		}
	}()
	err := s.pipeline.Run(ctx)
	if cerr := s.playlist.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.name, err)
	}
	return nil
}
