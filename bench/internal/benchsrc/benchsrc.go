// Package benchsrc makes the frames every program under bench/ works on:
// the checkerboard with `hlsmark serve`'s and `hlsmark bench`'s defaults
// (cmd/hlsmark/config.go), so that hlsmark, the ffmpeg CLI and libx264
// alone all see the same pictures.
package benchsrc

import (
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// FPS is the frame rate of every comparison.
const FPS = 30

// New returns the checkerboard of hlsmark's defaults (block height/9, an
// event every 20 s on average lasting 2 s, seed 1) at size s, paced by clk
// from its present reading.
func New(s pipeline.Size, clk clock.Clock) (*pipeline.Checkerboard, error) {
	return pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
		Size: s, FPS: FPS, Block: max(8, s.Height/9),
		EventEvery: 20 * time.Second, EventDuration: 2 * time.Second, Seed: 1,
	}, clk, clock.Timeline{Epoch: clk.Now()})
}
