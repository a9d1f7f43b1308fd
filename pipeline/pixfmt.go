package pipeline

// #cgo pkg-config: libavutil
// #include <libavutil/imgutils.h>
import "C"

import (
	"fmt"
	"slices"
	"strings"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// PixelFormat names the layout of a raw picture, by libav's name for it.
type PixelFormat string

// The pixel formats a raw input may carry: packed 8-bit RGB or BGR, planar
// YUV 4:2:0 (BT.601, limited range, as swscale reads it by default) and
// 8-bit grey.
const (
	RGB24   PixelFormat = "rgb24"
	BGR24   PixelFormat = "bgr24"
	YUV420P PixelFormat = "yuv420p"
	Gray    PixelFormat = "gray"
)

// RGBA is packed 8-bit red, green, blue and alpha, as Go's image.RGBA and
// image.NRGBA hold it: the layout a Go program's images are pushed in
// (Push), the alpha ignored. It is not one of PixelFormats: raw inputs do
// not carry it.
const RGBA PixelFormat = "rgba"

// PixelFormats lists the pixel formats a raw input may carry.
var PixelFormats = []PixelFormat{RGB24, BGR24, YUV420P, Gray}

// avPixelFormats maps each PixelFormat to libav's.
var avPixelFormats = map[PixelFormat]C.enum_AVPixelFormat{
	RGB24:   C.AV_PIX_FMT_RGB24,
	BGR24:   C.AV_PIX_FMT_BGR24,
	YUV420P: C.AV_PIX_FMT_YUV420P,
	Gray:    C.AV_PIX_FMT_GRAY8,
	RGBA:    C.AV_PIX_FMT_RGBA,
}

// Validate reports whether p is one of PixelFormats.
func (p PixelFormat) Validate() error {
	if !slices.Contains(PixelFormats, p) {
		names := make([]string, len(PixelFormats))
		for i, f := range PixelFormats {
			names[i] = string(f)
		}
		return fmt.Errorf("pix-fmt %q: must be one of %s", string(p), strings.Join(names, ", "))
	}
	return nil
}

// FrameBytes returns how many bytes one picture of size s takes in format
// p (one of PixelFormats, or RGBA), packed with no padding, as libav
// computes it.
func (p PixelFormat) FrameBytes(s media.Size) (int, error) {
	av, ok := avPixelFormats[p]
	if !ok {
		return 0, p.Validate()
	}
	n := C.av_image_get_buffer_size(av, C.int(s.Width), C.int(s.Height), 1)
	if n < 0 {
		return 0, fmt.Errorf("pix-fmt %s at %s: %w", p, s, astiav.Error(n))
	}
	return int(n), nil
}

// toBGR converts pictures of one format and size to a Frame's BGR24 with
// swscale. Close frees it.
type toBGR struct {
	format PixelFormat
	size   media.Size
	sc     *scaler // nil for BGR24: a copy
}

// newToBGR returns a converter from pictures in format p (one of
// PixelFormats, or RGBA) at size s.
func newToBGR(p PixelFormat, s media.Size) (*toBGR, error) {
	if _, ok := avPixelFormats[p]; !ok {
		return nil, p.Validate()
	}
	c := &toBGR{format: p, size: s}
	if p == BGR24 {
		return c, nil
	}
	var err error
	if c.sc, err = newScaler(p, s, BGR24, s, bilinear); err != nil {
		return nil, err
	}
	return c, nil
}

// convert converts pic, one picture in c's format and size, into f.BGR.
func (c *toBGR) convert(pic []byte, f *Frame) error {
	want, err := c.format.FrameBytes(c.size)
	if err != nil {
		return err
	}
	switch {
	case f.Size != c.size || len(f.BGR) < c.size.Width*c.size.Height*3:
		return fmt.Errorf("convert: frame is %s, want %s", f.Size, c.size)
	case len(pic) != want:
		return fmt.Errorf("convert: %s picture at %s is %d bytes, want %d", c.format, c.size, len(pic), want)
	case c.sc == nil:
		copy(f.BGR, pic)
		return nil
	}
	return c.sc.scale(pic, f.BGR)
}

// Close frees the swscale context.
func (c *toBGR) Close() {
	if c.sc != nil {
		c.sc.Close()
		c.sc = nil
	}
}
