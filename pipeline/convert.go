package pipeline

// #cgo pkg-config: libavutil
// #cgo CFLAGS: -O2
// #include <stdint.h>
// #include <libavutil/frame.h>
//
// // BT.601 limited range ("studio swing"), as swscale's default for
// // RGB to YUV: Y = 16..235, U and V = 16..240, with 8-bit fixed-point
// // coefficients. Chroma is converted from the rounded mean of each 2x2
// // block. The scalar and the SSSE3 code below compute the same numbers,
// // bit for bit.
// static inline uint8_t hlsmark_y(int r, int g, int b) {
//     return (uint8_t)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
// }
// static inline uint8_t hlsmark_u(int r, int g, int b) {
//     return (uint8_t)(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
// }
// static inline uint8_t hlsmark_v(int r, int g, int b) {
//     return (uint8_t)(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
// }
//
// // hlsmark_rows_c converts two RGB rows (a above b) from pixel x0 on.
// static void hlsmark_rows_c(const uint8_t *a, const uint8_t *b, int x0, int width,
//                            uint8_t *ya, uint8_t *yb, uint8_t *u, uint8_t *v) {
//     for (int x = x0; x < width; x += 2) {
//         const uint8_t *p = a + 3 * x, *q = b + 3 * x;
//         ya[x] = hlsmark_y(p[0], p[1], p[2]);
//         ya[x + 1] = hlsmark_y(p[3], p[4], p[5]);
//         yb[x] = hlsmark_y(q[0], q[1], q[2]);
//         yb[x + 1] = hlsmark_y(q[3], q[4], q[5]);
//         int r = (p[0] + p[3] + q[0] + q[3] + 2) >> 2;
//         int g = (p[1] + p[4] + q[1] + q[4] + 2) >> 2;
//         int bl = (p[2] + p[5] + q[2] + q[5] + 2) >> 2;
//         u[x / 2] = hlsmark_u(r, g, bl);
//         v[x / 2] = hlsmark_v(r, g, bl);
//     }
// }
//
// #if defined(__x86_64__)
// #include <tmmintrin.h>
//
// // hlsmark_rgb16 splits 16 packed RGB pixels into their R, G and B bytes.
// __attribute__((target("ssse3")))
// static inline void hlsmark_rgb16(const uint8_t *s, __m128i *r, __m128i *g, __m128i *b) {
//     const __m128i v0 = _mm_loadu_si128((const __m128i *)s);
//     const __m128i v1 = _mm_loadu_si128((const __m128i *)(s + 16));
//     const __m128i v2 = _mm_loadu_si128((const __m128i *)(s + 32));
//     *r = _mm_or_si128(_mm_or_si128(
//         _mm_shuffle_epi8(v0, _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
//         _mm_shuffle_epi8(v1, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1))),
//         _mm_shuffle_epi8(v2, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13)));
//     *g = _mm_or_si128(_mm_or_si128(
//         _mm_shuffle_epi8(v0, _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
//         _mm_shuffle_epi8(v1, _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1))),
//         _mm_shuffle_epi8(v2, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14)));
//     *b = _mm_or_si128(_mm_or_si128(
//         _mm_shuffle_epi8(v0, _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
//         _mm_shuffle_epi8(v1, _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1))),
//         _mm_shuffle_epi8(v2, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15)));
// }
//
// // hlsmark_y8 computes 8 lumas from 16-bit R, G, B (all sums fit in 16 bits).
// __attribute__((target("ssse3")))
// static inline __m128i hlsmark_y8(__m128i r, __m128i g, __m128i b) {
//     __m128i y = _mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(r, _mm_set1_epi16(66)),
//         _mm_mullo_epi16(g, _mm_set1_epi16(129))), _mm_mullo_epi16(b, _mm_set1_epi16(25)));
//     y = _mm_srli_epi16(_mm_add_epi16(y, _mm_set1_epi16(128)), 8);
//     return _mm_add_epi16(y, _mm_set1_epi16(16));
// }
//
// // hlsmark_c8 computes 8 chroma samples from 16-bit means, with signed
// // coefficients (every sum fits in 16 bits, signed).
// __attribute__((target("ssse3")))
// static inline __m128i hlsmark_c8(__m128i r, __m128i g, __m128i b, short kr, short kg, short kb) {
//     __m128i c = _mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(r, _mm_set1_epi16(kr)),
//         _mm_mullo_epi16(g, _mm_set1_epi16(kg))), _mm_mullo_epi16(b, _mm_set1_epi16(kb)));
//     c = _mm_srai_epi16(_mm_add_epi16(c, _mm_set1_epi16(128)), 8);
//     return _mm_add_epi16(c, _mm_set1_epi16(128));
// }
//
// // hlsmark_mean8 returns the rounded means of the 2x2 blocks of 16 pixels
// // of two rows, given as low and high halves widened to 16 bits.
// __attribute__((target("ssse3")))
// static inline __m128i hlsmark_mean8(__m128i alo, __m128i ahi, __m128i blo, __m128i bhi) {
//     __m128i s = _mm_hadd_epi16(_mm_add_epi16(alo, blo), _mm_add_epi16(ahi, bhi));
//     return _mm_srli_epi16(_mm_add_epi16(s, _mm_set1_epi16(2)), 2);
// }
//
// // hlsmark_rows_ssse3 converts two rows 16 pixels at a time and returns
// // the first pixel it left for the scalar code.
// __attribute__((target("ssse3")))
// static int hlsmark_rows_ssse3(const uint8_t *a, const uint8_t *b, int width,
//                               uint8_t *ya, uint8_t *yb, uint8_t *u, uint8_t *v) {
//     const __m128i z = _mm_setzero_si128();
//     int x = 0;
//     for (; x + 16 <= width; x += 16) {
//         __m128i ra, ga, ba, rb, gb, bb;
//         hlsmark_rgb16(a + 3 * x, &ra, &ga, &ba);
//         hlsmark_rgb16(b + 3 * x, &rb, &gb, &bb);
//         __m128i ral = _mm_unpacklo_epi8(ra, z), rah = _mm_unpackhi_epi8(ra, z);
//         __m128i gal = _mm_unpacklo_epi8(ga, z), gah = _mm_unpackhi_epi8(ga, z);
//         __m128i bal = _mm_unpacklo_epi8(ba, z), bah = _mm_unpackhi_epi8(ba, z);
//         __m128i rbl = _mm_unpacklo_epi8(rb, z), rbh = _mm_unpackhi_epi8(rb, z);
//         __m128i gbl = _mm_unpacklo_epi8(gb, z), gbh = _mm_unpackhi_epi8(gb, z);
//         __m128i bbl = _mm_unpacklo_epi8(bb, z), bbh = _mm_unpackhi_epi8(bb, z);
//         _mm_storeu_si128((__m128i *)(ya + x), _mm_packus_epi16(hlsmark_y8(ral, gal, bal), hlsmark_y8(rah, gah, bah)));
//         _mm_storeu_si128((__m128i *)(yb + x), _mm_packus_epi16(hlsmark_y8(rbl, gbl, bbl), hlsmark_y8(rbh, gbh, bbh)));
//         __m128i r = hlsmark_mean8(ral, rah, rbl, rbh);
//         __m128i g = hlsmark_mean8(gal, gah, gbl, gbh);
//         __m128i bl = hlsmark_mean8(bal, bah, bbl, bbh);
//         _mm_storel_epi64((__m128i *)(u + x / 2), _mm_packus_epi16(hlsmark_c8(r, g, bl, -38, -74, 112), z));
//         _mm_storel_epi64((__m128i *)(v + x / 2), _mm_packus_epi16(hlsmark_c8(r, g, bl, 112, -94, -18), z));
//     }
//     return x;
// }
// #endif
//
// // hlsmark_rgb_to_yuv420p converts one packed RGB24 picture, read straight
// // from Go memory, into the planes of dst (a YUV420P AVFrame of the same,
// // even, size). simd selects the SSSE3 code where the CPU has it.
// static int hlsmark_rgb_to_yuv420p(const uint8_t *rgb, int width, int height, AVFrame *dst, int simd) {
//     int ret = av_frame_make_writable(dst);
//     if (ret < 0) return ret;
// #if defined(__x86_64__)
//     simd = simd && __builtin_cpu_supports("ssse3");
// #else
//     simd = 0;
// #endif
//     for (int y = 0; y < height; y += 2) {
//         const uint8_t *a = rgb + (size_t)y * width * 3, *b = a + (size_t)width * 3;
//         uint8_t *ya = dst->data[0] + (size_t)y * dst->linesize[0], *yb = ya + dst->linesize[0];
//         uint8_t *u = dst->data[1] + (size_t)(y / 2) * dst->linesize[1];
//         uint8_t *v = dst->data[2] + (size_t)(y / 2) * dst->linesize[2];
//         int x = 0;
// #if defined(__x86_64__)
//         if (simd) x = hlsmark_rows_ssse3(a, b, width, ya, yb, u, v);
// #endif
//         hlsmark_rows_c(a, b, x, width, ya, yb, u, v);
//     }
//     return 0;
// }
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// useSIMD lets tests compare the SSSE3 conversion with the scalar one.
var useSIMD = true

// picture is a frame's picture converted to YUV420P for the encoder: an
// AVFrame that the Frame owns until Free.
type picture struct {
	av *astiav.Frame
	// pts is the PTS of the Frame it was converted from, and fresh is set
	// until the encoder has taken it: Encode uses the picture only if both
	// still match the Frame.
	pts   clock.Ticks
	fresh bool
}

// allocYUV allocates a YUV420P AVFrame of size s with its buffer.
func allocYUV(s Size) (*astiav.Frame, error) {
	f := astiav.AllocFrame()
	f.SetWidth(s.Width)
	f.SetHeight(s.Height)
	f.SetPixelFormat(astiav.PixelFormatYuv420P)
	if err := f.AllocBuffer(0); err != nil {
		f.Free()
		return nil, fmt.Errorf("convert: allocate %s YUV420P frame: %w", s, err)
	}
	return f, nil
}

// convertInto writes f's picture into dst, a YUV420P frame of f's size.
// The RGB is read in place by C: nothing is copied across cgo.
func convertInto(f *Frame, dst *astiav.Frame) error {
	if len(f.RGB) < f.Size.Width*f.Size.Height*3 || f.Size.Width%2 != 0 || f.Size.Height%2 != 0 ||
		dst.Width() != f.Size.Width || dst.Height() != f.Size.Height {
		return fmt.Errorf("convert: frame is %s with %d bytes, picture is %dx%d", f.Size, len(f.RGB), dst.Width(), dst.Height())
	}
	simd := C.int(0)
	if useSIMD {
		simd = 1
	}
	ret := C.hlsmark_rgb_to_yuv420p((*C.uint8_t)(unsafe.Pointer(&f.RGB[0])),
		C.int(f.Size.Width), C.int(f.Size.Height), (*C.AVFrame)(dst.UnsafePointer()), simd)
	if ret < 0 {
		return fmt.Errorf("convert: %w", astiav.Error(ret))
	}
	return nil
}

// Convert converts the frame's RGB picture to YUV420P for the encoder, into
// a buffer the frame keeps (allocated on first use) until Free. Run calls
// it on the source's goroutine, so that conversion overlaps encoding;
// Encode converts by itself any frame that was not converted since its
// last render. The RGB must not change between Convert and Encode.
func (f *Frame) Convert() error {
	if f.yuv == nil {
		av, err := allocYUV(f.Size)
		if err != nil {
			return err
		}
		f.yuv = &picture{av: av}
	}
	if err := convertInto(f, f.yuv.av); err != nil {
		return err
	}
	f.yuv.pts, f.yuv.fresh = f.PTS, true
	return nil
}

// Free releases the frame's libav memory: the YUV420P picture Convert
// made. The frame stays usable; a later Convert allocates anew.
func (f *Frame) Free() {
	if f.yuv != nil {
		f.yuv.av.Free()
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
