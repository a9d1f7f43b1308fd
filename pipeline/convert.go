package pipeline

// #cgo pkg-config: libswscale libavutil
// #include <libswscale/swscale.h>
// #include <libavutil/frame.h>
//
// // hlsmark_rgb_to_frame converts one packed RGB24 picture, read straight from
// // Go memory, into the planes of dst (a writable YUV420P AVFrame). Doing the
// // conversion here saves copying every frame into an RGB AVFrame first:
// // go-astiav v0.16.0 has no setter for a frame's planes.
// static int hlsmark_rgb_to_frame(struct SwsContext *sws, const uint8_t *rgb, int width, int height, AVFrame *dst) {
//     int ret = av_frame_make_writable(dst);
//     if (ret < 0) return ret;
//     const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
//     const int stride[4] = {width * 3, 0, 0, 0};
//     return sws_scale(sws, src, stride, 0, height, dst->data, dst->linesize);
// }
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// converter turns packed RGB24 frames into YUV420P AVFrames with swscale.
type converter struct {
	sws  *C.struct_SwsContext
	size Size
}

func newConverter(s Size) (*converter, error) {
	w, h := C.int(s.Width), C.int(s.Height)
	sws := C.sws_getContext(w, h, C.AV_PIX_FMT_RGB24, w, h, C.AV_PIX_FMT_YUV420P, C.SWS_BILINEAR, nil, nil, nil)
	if sws == nil {
		return nil, errors.New("swscale: cannot convert RGB24 to YUV420P at " + s.String())
	}
	return &converter{sws: sws, size: s}, nil
}

// convert writes f's picture into dst, which must be a YUV420P frame of the
// same size with its buffer allocated.
func (c *converter) convert(f *Frame, dst *astiav.Frame) error {
	if f.Size != c.size || len(f.RGB) < c.size.Width*c.size.Height*3 {
		return fmt.Errorf("swscale: frame is %s with %d bytes, converter is for %s", f.Size, len(f.RGB), c.size)
	}
	ret := C.hlsmark_rgb_to_frame(c.sws, (*C.uint8_t)(unsafe.Pointer(&f.RGB[0])),
		C.int(c.size.Width), C.int(c.size.Height), (*C.AVFrame)(dst.UnsafePointer()))
	if ret < 0 {
		return fmt.Errorf("swscale: %w", astiav.Error(ret))
	}
	return nil
}

func (c *converter) close() {
	C.sws_freeContext(c.sws)
	c.sws = nil
}
