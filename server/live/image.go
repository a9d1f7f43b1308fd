//go:build cgo

package live

import (
	"context"
	"fmt"
	"image"
	"image/draw"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// PushImage hands over img, of Config.Size, shown from pts, as Push does.
// An *image.RGBA, *image.NRGBA or *image.Gray whose rows lie back to back
// is read in place and converted by libswscale, the alpha ignored (so a
// premultiplied RGBA shows as if over black); any other image (an
// *image.YCbCr from a JPEG decoder, a paletted one, a sub-image) is first
// drawn into an RGBA picture with image/draw.
func (s *Stream) PushImage(ctx context.Context, pts clock.Ticks, img image.Image) error {
	b, size := img.Bounds(), s.cfg.Size
	if b.Dx() != size.Width || b.Dy() != size.Height {
		return fmt.Errorf("live: image is %dx%d, the stream's pictures %s", b.Dx(), b.Dy(), size)
	}
	switch im := img.(type) {
	case *image.RGBA:
		if pix, ok := packed(im.Pix, im.Stride, im.PixOffset(b.Min.X, b.Min.Y), 4*size.Width, size.Height); ok {
			return s.push.Push(ctx, pts, pipeline.RGBA, pix)
		}
	case *image.NRGBA:
		if pix, ok := packed(im.Pix, im.Stride, im.PixOffset(b.Min.X, b.Min.Y), 4*size.Width, size.Height); ok {
			return s.push.Push(ctx, pts, pipeline.RGBA, pix)
		}
	case *image.Gray:
		if pix, ok := packed(im.Pix, im.Stride, im.PixOffset(b.Min.X, b.Min.Y), size.Width, size.Height); ok {
			return s.push.Push(ctx, pts, pipeline.Gray, pix)
		}
	}
	// Held until the picture is taken: Push reads the buffer in place.
	s.imageMu.Lock()
	defer s.imageMu.Unlock()
	if n := 4 * size.Width * size.Height; len(s.imageBuf) != n {
		s.imageBuf = make([]byte, n)
	}
	dst := &image.RGBA{Pix: s.imageBuf, Stride: 4 * size.Width, Rect: image.Rect(0, 0, size.Width, size.Height)}
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return s.push.Push(ctx, pts, pipeline.RGBA, dst.Pix)
}

// packed returns a picture's rows of row bytes from off in pix as one
// slice, if they lie back to back.
func packed(pix []byte, stride, off, row, rows int) ([]byte, bool) {
	if stride != row || off+row*rows > len(pix) {
		return nil, false
	}
	return pix[off : off+row*rows], true
}
