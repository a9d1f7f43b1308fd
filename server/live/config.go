//go:build cgo

package live

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// PixelFormat is the layout of the pictures given to Stream.Push.
type PixelFormat = pipeline.PixelFormat

// The pixel formats Stream.Push takes, converted with libswscale: packed
// 8-bit RGB or BGR, planar YUV 4:2:0 (BT.601, limited range) and 8-bit
// grey, each packed with no padding between rows.
const (
	RGB24   = pipeline.RGB24
	BGR24   = pipeline.BGR24
	YUV420P = pipeline.YUV420P
	Gray    = pipeline.Gray
)

// Config configures a stream. Zero fields take the defaults their
// comments give; Data and Size are required.
type Config struct {
	// Name is the stream's name in its URLs (/streams/{Name}/index.m3u8)
	// and its folder under Data. Default "live".
	Name string
	// Data is the folder of the stream: its segments, playlist and epoch
	// in Data/Name, its markers in Data/markers.db. A second program on
	// the same folder fails to start.
	Data string
	// Size is the size of every picture, in pixels (even, from 16 to 7680).
	Size media.Size
	// FPS is the nominal frame rate, for the encoder's rate control; the
	// PTS decide when each frame shows. Default 30.
	FPS int
	// PixFmt is the layout of the pictures given to Push. Default RGB24.
	PixFmt PixelFormat
	// Segment is the target segment duration, from 100ms to 1m. Default 2s.
	Segment time.Duration
	// Window is the DVR window a viewer can seek back in, at least one
	// segment. Default 2m.
	Window time.Duration
	// Token, if set, is the bearer token that marker POSTs over HTTP must
	// carry; reading stays open. AddMarker needs none.
	Token string
	// Preset is libx264's preset. Default veryfast.
	Preset string
	// Log receives the stream's log lines. Default slog.Default().
	Log *slog.Logger
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "live"
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.PixFmt == "" {
		c.PixFmt = RGB24
	}
	if c.Segment == 0 {
		c.Segment = 2 * time.Second
	}
	if c.Window == 0 {
		c.Window = 2 * time.Minute
	}
	if c.Preset == "" {
		c.Preset = "veryfast"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// validate reports the first error in c (with its defaults), naming the
// field.
func (c Config) validate() error {
	switch {
	case c.Data == "":
		return errors.New("live: Config.Data: a folder is required")
	case c.Name == "." || c.Name == ".." || url.PathEscape(c.Name) != c.Name:
		return fmt.Errorf("live: Config.Name %q: must be usable as a URL path segment and a folder name", c.Name)
	case c.Segment < 100*time.Millisecond || c.Segment > time.Minute:
		return fmt.Errorf("live: Config.Segment %s: must be from 100ms to 1m", c.Segment)
	case c.Window < c.Segment:
		return fmt.Errorf("live: Config.Window %s: must be at least one segment (%s)", c.Window, c.Segment)
	}
	if err := c.PixFmt.Validate(); err != nil {
		return fmt.Errorf("live: Config.PixFmt: %w", err)
	}
	if err := c.encoder().Validate(); err != nil {
		return fmt.Errorf("live: Config: %w", err)
	}
	return nil
}

// encoder returns the encoder's configuration: an IDR at least every
// segment, no B-frames (DTS equal to PTS), libx264's zerolatency tune.
func (c Config) encoder() pipeline.EncoderConfig {
	return pipeline.EncoderConfig{Size: c.Size, FPS: c.FPS, Preset: c.Preset, Tune: "zerolatency", KeyInterval: c.Segment}
}
