package pipeline

// #cgo pkg-config: libswscale libavutil
// #include <libswscale/swscale.h>
// #include <libavutil/imgutils.h>
//
// // hlsmark_to_bgr converts one picture of format fmt, packed in src with
// // no padding (libav's alignment 1), to packed BGR24 in dst, with swscale.
// static int hlsmark_to_bgr(struct SwsContext *sws, const uint8_t *src, enum AVPixelFormat fmt, int width, int height, uint8_t *dst) {
//     uint8_t *planes[4];
//     int strides[4];
//     int ret = av_image_fill_arrays(planes, strides, src, fmt, width, height, 1);
//     if (ret < 0) return ret;
//     uint8_t *out[4] = {dst, NULL, NULL, NULL};
//     const int outStride[4] = {width * 3, 0, 0, 0};
//     return sws_scale(sws, (const uint8_t *const *)planes, strides, 0, height, out, outStride);
// }
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

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
	sws    *C.struct_SwsContext // nil for BGR24: a copy
}

// newToBGR returns a converter from pictures in format p (one of
// PixelFormats, or RGBA) at size s.
func newToBGR(p PixelFormat, s media.Size) (*toBGR, error) {
	av, ok := avPixelFormats[p]
	if !ok {
		return nil, p.Validate()
	}
	c := &toBGR{format: p, size: s}
	if p == BGR24 {
		return c, nil
	}
	w, h := C.int(s.Width), C.int(s.Height)
	c.sws = C.sws_getContext(w, h, av, w, h, C.AV_PIX_FMT_BGR24, C.SWS_BILINEAR, nil, nil, nil)
	if c.sws == nil {
		return nil, errors.New("convert: swscale cannot convert " + string(p) + " to BGR24 at " + s.String())
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
	case c.sws == nil:
		copy(f.BGR, pic)
		return nil
	}
	ret := C.hlsmark_to_bgr(c.sws, (*C.uint8_t)(unsafe.Pointer(&pic[0])), avPixelFormats[c.format],
		C.int(c.size.Width), C.int(c.size.Height), (*C.uint8_t)(unsafe.Pointer(&f.BGR[0])))
	if ret < 0 {
		return fmt.Errorf("convert %s to BGR24: %w", c.format, astiav.Error(ret))
	}
	return nil
}

// Close frees the swscale context.
func (c *toBGR) Close() {
	if c.sws != nil {
		C.sws_freeContext(c.sws)
		c.sws = nil
	}
}
