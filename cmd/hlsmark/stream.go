package main

import (
	"log/slog"
	"path/filepath"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/stream"
)

// newStream builds the stream c describes, paced by clk, with its markers
// kept in store: the checkerboard, or the file --input names. wrap, if
// set, wraps its checkerboard source: bench limits
// it to a number of frames, tests pause it or read its events.
func newStream(c streamConfig, clk clock.Clock, store marker.Store, log *slog.Logger, wrap func(*pipeline.Checkerboard) pipeline.Source) (*stream.Stream, error) {
	window := c.Window
	if window == 0 {
		window = c.Segment
	}
	return stream.New(stream.Config{
		Name: c.Name, Dir: filepath.Join(c.Data, c.Name),
		Segment: c.Segment, Window: window, Grace: c.Grace, MaxDateRanges: c.MaxDateRanges,
		CacheBytes: c.SegmentCache,
		Encoder:    c.encoder(),
		Source: func(clk clock.Clock, tl clock.Timeline) (pipeline.Source, error) {
			if c.fileInput() {
				src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: c.Input, Size: c.Size, Loop: c.Loop, Log: log}, clk, tl)
				if err != nil {
					return nil, usagef("--input: %v", err)
				}
				return src, nil
			}
			src, err := pipeline.NewCheckerboard(c.source(), clk, tl)
			if err != nil || wrap == nil {
				return src, err
			}
			return wrap(src), nil
		},
		Clock: clk, Store: store, Log: log,
	})
}
