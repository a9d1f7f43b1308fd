package main

import (
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server/metrics"
)

// newStream builds the stream c describes, paced by clk, with its markers
// kept in store. wrap, if set, wraps its source: bench limits it to a
// number of frames, tests pause it or read its events.
func newStream(c streamConfig, clk clock.Clock, store marker.Store, log *slog.Logger, wrap func(pipeline.Source) pipeline.Source) (*stream.Stream, error) {
	return newServedStream(c, clk, store, log, wrap, nil)
}

// newServedStream builds the stream c describes for a server: counted in
// m, and Supervised, so a failure leaves its playlist open for the stream
// its supervisor makes next. A nil m makes a stream on its own, as
// newStream does.
func newServedStream(c streamConfig, clk clock.Clock, store marker.Store, log *slog.Logger, wrap func(pipeline.Source) pipeline.Source, m *metrics.Metrics) (*stream.Stream, error) {
	window := c.Window
	if window == 0 {
		window = c.Segment
	}
	st, err := stream.New(stream.Config{
		Name: c.Name, Dir: filepath.Join(c.Data, c.Name),
		Segment: c.Segment, Window: window, Grace: c.Grace, MaxDateRanges: c.MaxDateRanges,
		Retain: c.Retain, RetainSize: c.RetainSize,
		CacheBytes: c.SegmentCache,
		Encoder:    c.encoder(),
		Format:     c.SegmentFormat,
		Part:       c.Part,
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			src, err := c.openInput(at, log)
			if err != nil || wrap == nil {
				return src, err
			}
			return wrap(src), nil
		},
		Detector: c.detector(),
		Copy:     c.copies(),
		Clock:    clk, Store: store, Log: log,
		Metrics: m, Supervised: m != nil,
		Notifier: c.notifier,
		Bucket:   c.bucket,
	})
	var fe *playlist.FormatError
	if errors.As(err, &fe) {
		return nil, usagef("--format %s: %v", c.SegmentFormat, err)
	}
	return st, err
}
