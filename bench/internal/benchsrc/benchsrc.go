// Package benchsrc makes the frames every program under bench/ works on:
// the checkerboard with `hlsmark serve`'s and `hlsmark bench`'s defaults
// (pipeline.DefaultCheckerboardConfig), so that hlsmark, the ffmpeg CLI and
// libx264 alone all see the same pictures.
package benchsrc

import (
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// FPS is the frame rate of every comparison.
const FPS = 30

// New returns the checkerboard of hlsmark's defaults at size s and FPS,
// paced by clk from its present reading.
func New(s media.Size, clk clock.Clock) (*pipeline.Checkerboard, error) {
	cfg := pipeline.DefaultCheckerboardConfig(s)
	cfg.FPS = FPS
	return pipeline.NewCheckerboard(cfg, clk, clock.Timeline{Epoch: clk.Now()})
}
