package snapshot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// errPast stops decoding once a frame past the one wanted came.
var errPast = errors.New("snapshot: past the frame")

// decoded is a frame decoded from a segment: its PTS and its picture,
// packed YUV420P.
type decoded struct {
	pts  clock.Ticks
	size media.Size
	yuv  []byte
}

// decodeAt decodes seg up to the frame at pts (showing false: exactly that
// PTS, else media.ErrNoFrame) or the last frame with a PTS not after pts
// (showing true), and returns it.
func decodeAt(ctx context.Context, seg media.Segment, pts clock.Ticks, showing bool) (decoded, error) {
	var got decoded
	found := false
	_, err := segread.DecodeSegment(seg, func(f segread.Frame) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The TS carries PTS modulo 2^33: the frame's is the latest one
		// not past the segment's end. fMP4 carries all 64 bits.
		at := f.PTS
		if seg.Format == media.TS {
			at = clock.LatestAt(f.PTS, seg.End())
		}
		switch {
		case at > pts:
			return errPast
		case at < pts && !showing:
			return nil
		}
		got.pts, found = at, true
		return got.copyFrom(f.Image)
	})
	if err != nil && !errors.Is(err, errPast) {
		if _, serr := os.Stat(seg.Path); errors.Is(serr, os.ErrNotExist) {
			return got, media.ErrFrameGone // deleted while we looked
		}
		return got, fmt.Errorf("snapshot: decode segment %d: %w", seg.Seq, err)
	}
	if !found {
		return got, media.ErrNoFrame
	}
	return got, nil
}

// copyFrom copies a decoded picture (segread's YUV420P) into d.yuv, packed.
func (d *decoded) copyFrom(img image.Image) error {
	y, ok := img.(*image.YCbCr)
	if !ok || y.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return fmt.Errorf("snapshot: decoded picture is %T, want YUV 4:2:0", img)
	}
	w, h := y.Rect.Dx(), y.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	d.size = media.Size{Width: w, Height: h}
	d.yuv = d.yuv[:0]
	for r := range h {
		d.yuv = append(d.yuv, y.Y[r*y.YStride:r*y.YStride+w]...)
	}
	for _, plane := range [][]byte{y.Cb, y.Cr} {
		for r := range ch {
			d.yuv = append(d.yuv, plane[r*y.CStride:r*y.CStride+cw]...)
		}
	}
	return nil
}
