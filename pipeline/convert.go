package pipeline

// #cgo pkg-config: libswscale libavutil
// #include <libswscale/swscale.h>
// #include <libavutil/frame.h>
//
// // hlsmark_bgr_to_frame converts one packed BGR24 picture, read straight
// // from Go memory, into the planes of dst, a YUV420P AVFrame of the same
// // size, with swscale. go-astiav v0.16.0 has no setter for a frame's
// // planes, and reading the picture in place saves copying every frame
// // into an AVFrame first.
// static int hlsmark_bgr_to_frame(struct SwsContext *sws, const uint8_t *bgr, int width, int height, AVFrame *dst) {
//     int ret = av_frame_make_writable(dst);
//     if (ret < 0) return ret;
//     const uint8_t *src[4] = {bgr, NULL, NULL, NULL};
//     const int stride[4] = {width * 3, 0, 0, 0};
//     return sws_scale(sws, src, stride, 0, height, dst->data, dst->linesize);
// }
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// picture is a frame's picture converted to YUV420P for the encoder: an
// AVFrame and the swscale context that fills it, both owned by the Frame
// until Free.
type picture struct {
	av  *astiav.Frame
	sws *C.struct_SwsContext
	// pts is the PTS of the Frame it was converted from, and fresh is set
	// until the encoder has taken it: Encode uses the picture only if both
	// still match the Frame.
	pts   clock.Ticks
	fresh bool
}

// newPicture allocates a YUV420P AVFrame of size s and a swscale context
// from packed BGR24 at that size. The scaler does no scaling, only the
// colour conversion (BT.601, limited range, swscale's default) and the
// chroma subsampling; from BGR24 to YUV420P at the same size (and an even
// width) swscale takes its unscaled converter, several times faster than
// its general path, which RGB24 would take.
func newPicture(s media.Size) (*picture, error) {
	p := &picture{av: astiav.AllocFrame()}
	p.av.SetWidth(s.Width)
	p.av.SetHeight(s.Height)
	p.av.SetPixelFormat(astiav.PixelFormatYuv420P)
	if err := p.av.AllocBuffer(0); err != nil {
		p.free()
		return nil, fmt.Errorf("convert: allocate %s YUV420P frame: %w", s, err)
	}
	w, h := C.int(s.Width), C.int(s.Height)
	p.sws = C.sws_getContext(w, h, C.AV_PIX_FMT_BGR24, w, h, C.AV_PIX_FMT_YUV420P, C.SWS_BILINEAR, nil, nil, nil)
	if p.sws == nil {
		p.free()
		return nil, errors.New("convert: swscale cannot convert BGR24 to YUV420P at " + s.String())
	}
	return p, nil
}

func (p *picture) free() {
	if p.sws != nil {
		C.sws_freeContext(p.sws)
		p.sws = nil
	}
	p.av.Free()
}

// Convert converts the frame's BGR picture to YUV420P for the encoder, into
// a picture the frame keeps (allocated on first use) until Free. Run calls
// it on the source's goroutine, so that conversion overlaps encoding;
// Encode converts by itself any frame that was not converted since its
// last render. The picture must not change between Convert and Encode.
func (f *Frame) Convert() error {
	if f.yuv != nil && (f.yuv.av.Width() != f.Size.Width || f.yuv.av.Height() != f.Size.Height) {
		f.Free() // the frame changed size
	}
	if f.yuv == nil {
		p, err := newPicture(f.Size)
		if err != nil {
			return err
		}
		f.yuv = p
	}
	if len(f.BGR) < f.Size.Width*f.Size.Height*3 {
		return fmt.Errorf("convert: frame is %s with only %d bytes", f.Size, len(f.BGR))
	}
	ret := C.hlsmark_bgr_to_frame(f.yuv.sws, (*C.uint8_t)(unsafe.Pointer(&f.BGR[0])),
		C.int(f.Size.Width), C.int(f.Size.Height), (*C.AVFrame)(f.yuv.av.UnsafePointer()))
	if ret < 0 {
		return fmt.Errorf("convert: %w", astiav.Error(ret))
	}
	f.yuv.pts, f.yuv.fresh = f.PTS, true
	return nil
}

// Free releases the frame's libav memory: the YUV420P picture Convert
// made. The frame stays usable; a later Convert allocates anew.
func (f *Frame) Free() {
	if f.yuv != nil {
		f.yuv.free()
		f.yuv = nil
	}
}

// converted returns the frame's YUV420P picture if Convert made it for the
// frame's current PTS and no encoder has taken it yet.
func (f *Frame) converted() *astiav.Frame {
	if f.yuv == nil || !f.yuv.fresh || f.yuv.pts != f.PTS {
		return nil
	}
	return f.yuv.av
}
