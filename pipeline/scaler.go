package pipeline

// #cgo pkg-config: libswscale libavutil
// #include <libswscale/swscale.h>
// #include <libavutil/imgutils.h>
//
// // hlsmark_scale_packed scales and converts one picture, packed in src
// // with no padding (libav's alignment 1), into dst, packed likewise, with
// // swscale.
// static int hlsmark_scale_packed(struct SwsContext *sws,
//         const uint8_t *src, enum AVPixelFormat srcFmt, int srcW, int srcH,
//         uint8_t *dst, enum AVPixelFormat dstFmt, int dstW, int dstH) {
//     uint8_t *in[4], *out[4];
//     int inStride[4], outStride[4];
//     int ret = av_image_fill_arrays(in, inStride, src, srcFmt, srcW, srcH, 1);
//     if (ret < 0) return ret;
//     ret = av_image_fill_arrays(out, outStride, dst, dstFmt, dstW, dstH, 1);
//     if (ret < 0) return ret;
//     return sws_scale(sws, (const uint8_t *const *)in, inStride, 0, srcH, out, outStride);
// }
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// scaleMethod is swscale's scaling algorithm.
type scaleMethod C.int

const (
	// bilinear is swscale's usual choice, and what an unscaled
	// conversion takes.
	bilinear scaleMethod = C.SWS_BILINEAR
	// area averages the source pixels each output pixel covers: the
	// downscale that blurs, rather than skips, the pixels in between.
	area scaleMethod = C.SWS_AREA
)

// scaler scales and converts pictures packed in Go memory (no padding)
// from one pixel format and size to another, with swscale. Close frees it.
type scaler struct {
	from, to          PixelFormat
	in, out           media.Size
	inBytes, outBytes int
	sws               *C.struct_SwsContext
}

// newScaler returns a scaler of pictures in format from at size in to
// format to at size out, by method m.
func newScaler(from PixelFormat, in media.Size, to PixelFormat, out media.Size, m scaleMethod) (*scaler, error) {
	s := &scaler{from: from, to: to, in: in, out: out}
	var err error
	if s.inBytes, err = from.FrameBytes(in); err != nil {
		return nil, err
	}
	if s.outBytes, err = to.FrameBytes(out); err != nil {
		return nil, err
	}
	s.sws = C.sws_getContext(C.int(in.Width), C.int(in.Height), avPixelFormats[from],
		C.int(out.Width), C.int(out.Height), avPixelFormats[to], C.int(m), nil, nil, nil)
	if s.sws == nil {
		return nil, fmt.Errorf("convert: swscale cannot convert %s at %s to %s at %s", from, in, to, out)
	}
	return s, nil
}

// scale converts src, one picture in the scaler's input format and size,
// into dst, which holds one in its output format and size.
func (s *scaler) scale(src, dst []byte) error {
	switch {
	case len(src) != s.inBytes:
		return fmt.Errorf("convert: %s picture at %s is %d bytes, want %d", s.from, s.in, len(src), s.inBytes)
	case len(dst) < s.outBytes:
		return fmt.Errorf("convert: %d bytes cannot hold a %s picture at %s (%d bytes)", len(dst), s.to, s.out, s.outBytes)
	}
	ret := C.hlsmark_scale_packed(s.sws,
		(*C.uint8_t)(unsafe.Pointer(&src[0])), avPixelFormats[s.from], C.int(s.in.Width), C.int(s.in.Height),
		(*C.uint8_t)(unsafe.Pointer(&dst[0])), avPixelFormats[s.to], C.int(s.out.Width), C.int(s.out.Height))
	if ret < 0 {
		return fmt.Errorf("convert %s at %s to %s at %s: %w", s.from, s.in, s.to, s.out, astiav.Error(ret))
	}
	return nil
}

// Close frees the swscale context.
func (s *scaler) Close() {
	if s.sws != nil {
		C.sws_freeContext(s.sws)
		s.sws = nil
	}
}
