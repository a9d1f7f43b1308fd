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
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// noPTS is libav's AV_NOPTS_VALUE: a frame without a timestamp.
const noPTS = math.MinInt64

// demuxInput names what a demuxer opens, and how.
type demuxInput struct {
	// URL is a path or any URL libavformat reads (file:, rtsp:, http:, a
	// device's path...).
	URL string
	// Name is how errors name the input: its kind and its URL without a
	// password.
	Name string
	// Format is the libav input format to open URL with (v4l2 for a
	// camera); empty lets libav probe.
	Format string
	// Options are the demuxer's and protocol's options (rtsp_transport,
	// video_size...).
	Options map[string]string
	// Timeout bounds each blocking call (the open, the stream probe, every
	// read) through libav's interrupt callback; 0: no bound but the
	// context's end.
	Timeout time.Duration
}

// demuxer is one pass over an input: its demuxer and, for the video
// stream it reads (the best one), either the decoder and the scaler to
// BGR24, or, to pass the H.264 through (--codec copy), the bitstream
// filter that makes its packets Annex B (see openPackets). Every libav
// object it holds is freed by close.
type demuxer struct {
	in      demuxInput
	fc      *astiav.FormatContext
	wd      *watchdog
	cc      *astiav.CodecContext
	bsf     *astiav.BitStreamFilterContext
	pkt     *astiav.Packet // read from the input
	out     *astiav.Packet // out of the bitstream filter
	frame   *astiav.Frame
	stream  *astiav.Stream
	sws     *C.struct_SwsContext
	flushed bool // the decoder or filter was sent its end of stream
}

// openDemuxer opens in and the decoder of its best video stream (see
// openInput).
func openDemuxer(ctx context.Context, in demuxInput) (*demuxer, error) {
	d, err := openInput(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := d.openDecoder(); err != nil {
		d.close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return d, nil
}

// openInput opens in and finds its best video stream, the one with the
// most pixels (the first of them on a tie), without opening anything to
// read its packets with. The open and the stream probe give up when ctx
// ends or after in.Timeout each.
func openInput(ctx context.Context, in demuxInput) (_ *demuxer, err error) {
	d := &demuxer{in: in, fc: astiav.AllocFormatContext(), pkt: astiav.AllocPacket()}
	if d.fc == nil || d.pkt == nil {
		d.close()
		return nil, fmt.Errorf("%s: allocate demuxer", in.Name)
	}
	d.wd = newWatchdog(d.fc)
	var format *astiav.InputFormat
	if in.Format != "" {
		if format = astiav.FindInputFormat(in.Format); format == nil {
			d.close()
			return nil, fmt.Errorf("%s: this FFmpeg build has no %s input", in.Name, in.Format)
		}
	}
	opts := astiav.NewDictionary()
	defer opts.Free()
	for k, v := range in.Options {
		if err := opts.Set(k, v, 0); err != nil {
			d.close()
			return nil, fmt.Errorf("%s: option %s=%s: %w", in.Name, k, v, err)
		}
	}
	if err := d.guard(ctx, "open", func() error { return d.fc.OpenInput(in.URL, format, opts) }); err != nil {
		// avformat_open_input frees the context when it fails: only
		// the Go side is left to let go of.
		d.fc.Free()
		d.fc = nil
		d.close()
		return nil, err
	}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if err := d.guard(ctx, "read stream info", func() error { return d.fc.FindStreamInfo(nil) }); err != nil {
		return nil, err
	}
	best := 0
	for _, s := range d.fc.Streams() {
		p := s.CodecParameters()
		if p.MediaType() == astiav.MediaTypeVideo && p.Width()*p.Height() > best {
			d.stream, best = s, p.Width()*p.Height()
		}
	}
	if d.stream == nil {
		return nil, fmt.Errorf("%s: no video stream", in.Name)
	}
	return d, nil
}

// openDecoder opens the video stream's decoder.
func (d *demuxer) openDecoder() error {
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

// guard runs call, one of libav's blocking calls, under the watchdog and
// names what it was doing in its error: the context's error if ctx
// ended, a timeout if the deadline passed.
func (d *demuxer) guard(ctx context.Context, what string, call func() error) error {
	disarm := d.wd.arm(ctx, d.in.Timeout)
	err := call()
	timedOut := disarm()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case timedOut:
		return fmt.Errorf("%s: %s: nothing for %s", d.in.Name, what, d.in.Timeout)
	case errors.Is(err, astiav.ErrEof):
		return io.EOF
	}
	return fmt.Errorf("%s: %s: %w", d.in.Name, what, err)
}

// begin starts m's pass over this input (see ptsMap.begin) with the
// video stream's time base and frame rate.
func (d *demuxer) begin(m *ptsMap, base clock.Ticks) error {
	tb, rate := d.stream.TimeBase(), d.stream.AvgFrameRate()
	if rate.Num() <= 0 || rate.Den() <= 0 {
		rate = d.stream.RFrameRate()
	}
	return m.begin(int64(tb.Num()), int64(tb.Den()), int64(rate.Num()), int64(rate.Den()), base)
}

// next decodes the next picture, in presentation order, and returns its
// best-effort timestamp in the stream's time base (noPTS if it has none).
// The picture stays in d until the next call. It returns io.EOF once the
// decoder has given its last picture.
func (d *demuxer) next(ctx context.Context) (int64, error) {
	for {
		d.frame.Unref()
		err := d.cc.ReceiveFrame(d.frame)
		switch {
		case err == nil:
			return int64(C.hlsmark_best_effort((*C.AVFrame)(d.frame.UnsafePointer()))), nil
		case errors.Is(err, astiav.ErrEof):
			return 0, io.EOF
		case !errors.Is(err, astiav.ErrEagain):
			return 0, fmt.Errorf("%s: decode: %w", d.in.Name, err)
		}
		if err := d.feed(ctx, d.cc); err != nil {
			return 0, err
		}
	}
}

// feed sends to (the decoder, or the bitstream filter) the stream's next
// packet, or its end of stream once the input has no more.
func (d *demuxer) feed(ctx context.Context, to interface{ SendPacket(*astiav.Packet) error }) error {
	if d.flushed {
		return io.ErrUnexpectedEOF // input wanted after its end: never, by libavcodec's contract
	}
	for {
		if err := d.guard(ctx, "read", func() error { return d.fc.ReadFrame(d.pkt) }); err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			d.flushed = true
			if err := to.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
				return fmt.Errorf("%s: flush: %w", d.in.Name, err)
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
			return fmt.Errorf("%s: decode: %w", d.in.Name, err)
		}
		return nil
	}
}

// toBGR scales and converts the picture next returned into dst, packed
// BGR24 of size s.
func (d *demuxer) toBGR(dst []byte, s media.Size) error {
	if len(dst) < s.Width*s.Height*3 {
		return fmt.Errorf("%s: frame buffer of %d bytes is too small for %s", d.in.Name, len(dst), s)
	}
	ret := C.hlsmark_frame_to_bgr(&d.sws, (*C.AVFrame)(d.frame.UnsafePointer()),
		(*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(s.Width), C.int(s.Height))
	if ret < 0 {
		return fmt.Errorf("%s: convert %dx%d %s to BGR24 %s: %w", d.in.Name, d.frame.Width(), d.frame.Height(), d.frame.PixelFormat(), s, astiav.Error(ret))
	}
	return nil
}

// close frees every libav object of the pass.
func (d *demuxer) close() {
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
