package pipeline

// #cgo pkg-config: libswscale libavutil
// #include <errno.h>
// #include <libswscale/swscale.h>
// #include <libavutil/error.h>
// #include <libavutil/frame.h>
//
// // hlsmark_frame_to_bgr scales and converts the decoded picture src into
// // dst, packed BGR24 of width × height in Go memory, reusing *sws while
// // the source's size and pixel format stay the same.
// static int hlsmark_frame_to_bgr(struct SwsContext **sws, const AVFrame *src, uint8_t *dst, int width, int height) {
//     *sws = sws_getCachedContext(*sws, src->width, src->height, src->format,
//         width, height, AV_PIX_FMT_BGR24, SWS_BILINEAR, NULL, NULL, NULL);
//     if (*sws == NULL) return AVERROR(EINVAL);
//     uint8_t *planes[4] = {dst, NULL, NULL, NULL};
//     const int stride[4] = {width * 3, 0, 0, 0};
//     int ret = sws_scale(*sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, planes, stride);
//     return ret < 0 ? ret : 0;
// }
//
// // hlsmark_best_effort returns libavcodec's best-effort presentation
// // timestamp of a decoded frame (go-astiav v0.16.0 has no getter for it).
// static int64_t hlsmark_best_effort(const AVFrame *f) { return f->best_effort_timestamp; }
import "C"

import (
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// noPTS is libav's AV_NOPTS_VALUE: a frame without a timestamp.
const noPTS = math.MinInt64

// fileDemuxer is one pass over a media file: its demuxer and, for the
// video stream it reads (the best one), either the decoder and the scaler
// to BGR24, or, to pass the H.264 through (--codec copy), the bitstream
// filter that makes its packets Annex B. Every libav object it holds is
// freed by close.
type fileDemuxer struct {
	fc      *astiav.FormatContext
	cc      *astiav.CodecContext
	bsf     *astiav.BitStreamFilterContext
	pkt     *astiav.Packet // read from the file
	out     *astiav.Packet // out of the bitstream filter
	frame   *astiav.Frame
	stream  *astiav.Stream
	sws     *C.struct_SwsContext
	flushed bool // the decoder or filter was sent its end of stream
}

// openFile opens input (a path or any URL libavformat reads, such as
// file:) and its best video stream: the one with the most pixels, the
// first of them on a tie. Its packets go to a decoder, or with copy to
// the h264_mp4toannexb bitstream filter; a stream that is not H.264
// cannot be copied (*NotH264Error).
func openFile(input string, copyH264 bool) (_ *fileDemuxer, err error) {
	d, err := openDemuxer(input)
	if err != nil {
		return nil, err
	}
	if copyH264 {
		err = d.openFilter()
	} else {
		err = d.openDecoder()
	}
	if err != nil {
		d.close()
		return nil, fmt.Errorf("file %s: %w", input, err)
	}
	return d, nil
}

// openDemuxer opens input and finds its best video stream, without
// opening anything to read its packets with.
func openDemuxer(input string) (_ *fileDemuxer, err error) {
	d := &fileDemuxer{fc: astiav.AllocFormatContext(), pkt: astiav.AllocPacket()}
	if d.fc == nil || d.pkt == nil {
		d.close()
		return nil, errors.New("file: allocate demuxer")
	}
	if err := d.fc.OpenInput(input, nil, nil); err != nil {
		// avformat_open_input frees the context when it fails: only
		// the Go side is left to let go of.
		d.fc.Free()
		d.fc = nil
		d.close()
		return nil, fmt.Errorf("file %s: open: %w", input, err)
	}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if err := d.fc.FindStreamInfo(nil); err != nil {
		return nil, fmt.Errorf("file %s: read stream info: %w", input, err)
	}
	best := 0
	for _, s := range d.fc.Streams() {
		p := s.CodecParameters()
		if p.MediaType() == astiav.MediaTypeVideo && p.Width()*p.Height() > best {
			d.stream, best = s, p.Width()*p.Height()
		}
	}
	if d.stream == nil {
		return nil, fmt.Errorf("file %s: no video stream", input)
	}
	return d, nil
}

// openDecoder opens the video stream's decoder.
func (d *fileDemuxer) openDecoder() error {
	id := d.stream.CodecParameters().CodecID()
	codec := astiav.FindDecoder(id)
	if codec == nil {
		return fmt.Errorf("no decoder for %s", id)
	}
	if d.frame = astiav.AllocFrame(); d.frame == nil {
		return errors.New("allocate frame")
	}
	if d.cc = astiav.AllocCodecContext(codec); d.cc == nil {
		return fmt.Errorf("allocate %s decoder", codec.Name())
	}
	if err := d.stream.CodecParameters().ToCodecContext(d.cc); err != nil {
		return fmt.Errorf("%s decoder parameters: %w", codec.Name(), err)
	}
	if err := d.cc.Open(codec, nil); err != nil {
		return fmt.Errorf("open %s decoder: %w", codec.Name(), err)
	}
	return nil
}

// timeBase returns the video stream's time base as num/den seconds.
func (d *fileDemuxer) timeBase() (num, den int64) {
	tb := d.stream.TimeBase()
	return int64(tb.Num()), int64(tb.Den())
}

// frameRate returns the video stream's average frame rate as num/den
// frames a second, or 0/0 when the container does not know it.
func (d *fileDemuxer) frameRate() (num, den int64) {
	r := d.stream.AvgFrameRate()
	if r.Num() <= 0 || r.Den() <= 0 {
		r = d.stream.RFrameRate()
	}
	return int64(r.Num()), int64(r.Den())
}

// next decodes the next picture, in presentation order, and returns its
// best-effort timestamp in the stream's time base (noPTS if it has none).
// The picture stays in d until the next call. It returns io.EOF once the
// decoder has given its last picture.
func (d *fileDemuxer) next() (int64, error) {
	for {
		d.frame.Unref()
		err := d.cc.ReceiveFrame(d.frame)
		switch {
		case err == nil:
			return int64(C.hlsmark_best_effort((*C.AVFrame)(d.frame.UnsafePointer()))), nil
		case errors.Is(err, astiav.ErrEof):
			return 0, io.EOF
		case !errors.Is(err, astiav.ErrEagain):
			return 0, fmt.Errorf("file: decode: %w", err)
		}
		if err := d.feed(d.cc); err != nil {
			return 0, err
		}
	}
}

// feed sends to (the decoder, or the bitstream filter) the stream's next
// packet, or its end of stream once the file has no more.
func (d *fileDemuxer) feed(to interface{ SendPacket(*astiav.Packet) error }) error {
	if d.flushed {
		return io.ErrUnexpectedEOF // input wanted after its end: never, by libavcodec's contract
	}
	for {
		if err := d.fc.ReadFrame(d.pkt); err != nil {
			if !errors.Is(err, astiav.ErrEof) {
				return fmt.Errorf("file: read: %w", err)
			}
			d.flushed = true
			if err := to.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
				return fmt.Errorf("file: flush: %w", err)
			}
			return nil
		}
		if d.pkt.StreamIndex() != d.stream.Index() {
			d.pkt.Unref()
			continue
		}
		err := to.SendPacket(d.pkt)
		d.pkt.Unref()
		if err != nil {
			return fmt.Errorf("file: decode: %w", err)
		}
		return nil
	}
}

// toBGR scales and converts the picture next returned into dst, packed
// BGR24 of size s.
func (d *fileDemuxer) toBGR(dst []byte, s media.Size) error {
	if len(dst) < s.Width*s.Height*3 {
		return fmt.Errorf("file: frame buffer of %d bytes is too small for %s", len(dst), s)
	}
	ret := C.hlsmark_frame_to_bgr(&d.sws, (*C.AVFrame)(d.frame.UnsafePointer()),
		(*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(s.Width), C.int(s.Height))
	if ret < 0 {
		return fmt.Errorf("file: convert %dx%d %s to BGR24 %s: %w", d.frame.Width(), d.frame.Height(), d.frame.PixelFormat(), s, astiav.Error(ret))
	}
	return nil
}

// close frees every libav object of the pass.
func (d *fileDemuxer) close() {
	if d.sws != nil {
		C.sws_freeContext(d.sws)
		d.sws = nil
	}
	if d.cc != nil {
		d.cc.Free()
	}
	if d.bsf != nil {
		d.bsf.Free()
	}
	if d.fc != nil {
		d.fc.CloseInput()
		d.fc.Free()
	}
	if d.pkt != nil {
		d.pkt.Free()
	}
	if d.out != nil {
		d.out.Free()
	}
	if d.frame != nil {
		d.frame.Free()
	}
}
