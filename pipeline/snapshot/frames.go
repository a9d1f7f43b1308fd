package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// maxDecodes is how many segments Frames decodes at once; more requests
// wait their turn (or give up with their context), so that pictures never
// take more than this many cores from the streams.
const maxDecodes = 2

// Config configures Frames.
type Config struct {
	// Dir is the stream's folder, where kept pictures are (ThumbsDir).
	Dir string
	// Size is the size of the stream's frames.
	Size media.Size
	// Segment finds the segment on disk that holds a PTS: the playlist's
	// SegmentAt (listed or within grace). Recordings kept past the window
	// plug in here.
	Segment func(clock.Ticks) (media.Segment, bool)
	// Keeper, if set, is the stream's Keeper: a picture it is still
	// writing is waited for rather than decoded.
	Keeper *Keeper
}

// Frames makes JPEG pictures of one stream's frames. It is safe for
// concurrent use.
type Frames struct {
	cfg     Config
	decodes chan struct{}
}

// NewFrames returns the pictures of the stream cfg describes.
func NewFrames(cfg Config) *Frames {
	return &Frames{cfg: cfg, decodes: make(chan struct{}, maxDecodes)}
}

// Size returns the size of the stream's frames: the largest picture.
func (f *Frames) Size() media.Size { return f.cfg.Size }

// JPEG returns a JPEG of the frame at pts, width pixels wide (0: the
// frame's own width) with the frame's aspect. With showing false the frame
// must have exactly that PTS (media.ErrNoFrame otherwise); with showing
// true it is the frame showing at pts, the last one with a PTS not after
// it. A kept picture (a detector's frame) is answered without decoding;
// any other frame is decoded from its segment, media.ErrFrameGone when no
// segment on disk holds pts.
func (f *Frames) JPEG(ctx context.Context, pts clock.Ticks, showing bool, width int) ([]byte, error) {
	if width < 0 || width > f.cfg.Size.Width {
		return nil, fmt.Errorf("snapshot: width %d is not from 1 to %d", width, f.cfg.Size.Width)
	}
	out := scaledSize(f.cfg.Size, width)
	if data, ok, err := f.kept(ctx, pts); err != nil || ok {
		if err != nil || out == f.cfg.Size {
			return data, err
		}
		return fromJPEG(data, out)
	}
	seg, ok := f.cfg.Segment(pts)
	if !ok {
		return nil, media.ErrFrameGone
	}
	select {
	case f.decodes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d, err := decodeAt(ctx, seg, pts, showing)
	<-f.decodes
	if err != nil {
		return nil, err
	}
	img, err := pipeline.ToRGBA(pipeline.YUV420P, d.size, d.yuv, scaledSize(d.size, min(width, d.size.Width)))
	if err != nil {
		return nil, fmt.Errorf("snapshot: frame at pts %d: %w", d.pts, err)
	}
	return encodeJPEG(img)
}

// kept returns the kept picture of the frame at pts, if there is one,
// waiting for the Keeper to finish writing it.
func (f *Frames) kept(ctx context.Context, pts clock.Ticks) ([]byte, bool, error) {
	if f.cfg.Keeper != nil {
		if ch := f.cfg.Keeper.wait(pts); ch != nil {
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(f.cfg.Dir, ThumbsDir, pictureName(pts)))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("snapshot: %w", err)
	}
	return data, true, nil
}
