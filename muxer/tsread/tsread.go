// Package tsread decodes segment files back with libav: MPEG-TS files,
// and fMP4 media segments after their init segment. Tests use it as an
// independent reader of what the muxer wrote: it trusts nothing but the file.
// Package snapshot decodes segments with it too, for pictures of frames;
// the tests of those pictures check them with the ffmpeg CLI instead.
package tsread

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Frame is one decoded picture.
type Frame struct {
	// PTS is the frame's PTS as read from the TS, in ticks.
	PTS clock.Ticks
	// Key is set on keyframes.
	Key bool
	// Image is the decoded picture. It is only valid during the callback
	// that receives it.
	Image image.Image
}

// File is what Decode learnt of a file's packets.
type File struct {
	Codec string
	// FirstPacketKey is set when the file's first video packet is a
	// keyframe (an IDR for H.264).
	FirstPacketKey bool
	Packets        int
}

// Decode demuxes and decodes the video stream of the file at path, calling
// each for every frame in presentation order of decoding.
func Decode(path string, each func(Frame) error) (File, error) {
	return decode(path, nil, each)
}

// DecodeSegment is Decode for a segment the muxer wrote, in its format: an
// fMP4 segment is read after the init segment in its folder (DecodeFMP4).
func DecodeSegment(seg media.Segment, each func(Frame) error) (File, error) {
	if seg.Format == media.FMP4 {
		return DecodeFMP4(filepath.Join(filepath.Dir(seg.Path), media.InitName), seg.Path, each)
	}
	return Decode(seg.Path, each)
}

// DecodeFMP4 is Decode for the fMP4 media segment at path, read after the
// init segment at initPath, as a player reads them.
func DecodeFMP4(initPath, path string, each func(Frame) error) (File, error) {
	init, err := os.ReadFile(initPath)
	if err != nil {
		return File{}, fmt.Errorf("tsread: %w", err)
	}
	seg, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("tsread: %w", err)
	}
	r := bytes.NewReader(append(init, seg...))
	in, err := astiav.AllocIOContext(32<<10, false, func(b []byte) (int, error) {
		n, err := r.Read(b)
		if errors.Is(err, io.EOF) {
			return 0, astiav.ErrEof
		}
		return n, err
	}, func(offset int64, whence int) (int64, error) {
		if whence&avseekSize != 0 {
			return r.Size(), nil
		}
		return r.Seek(offset, whence&^avseekForce)
	}, nil)
	if err != nil {
		return File{}, fmt.Errorf("tsread: %w", err)
	}
	defer in.Free()
	return decode(path, in, each)
}

// The flags libav adds to a seek's whence (libavformat/avio.h): a request
// for the size, and a seek forced however costly.
const (
	avseekSize  = 0x10000
	avseekForce = 0x20000
)

// decode decodes the video stream of the file at path, or of in if set
// (path then only names it).
func decode(path string, in *astiav.IOContext, each func(Frame) error) (File, error) {
	var out File
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return out, errors.New("tsread: alloc format context")
	}
	defer fc.Free()
	url := path
	if in != nil {
		fc.SetPb(in) // libav marks it custom I/O: CloseInput leaves it to us
		url = ""
	}
	if err := fc.OpenInput(url, nil, nil); err != nil {
		return out, fmt.Errorf("tsread: open %s: %w", path, err)
	}
	defer fc.CloseInput()
	if err := fc.FindStreamInfo(nil); err != nil {
		return out, fmt.Errorf("tsread: stream info: %w", err)
	}
	var st *astiav.Stream
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			st = s
			break
		}
	}
	if st == nil {
		return out, errors.New("tsread: no video stream")
	}
	if tb := st.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return out, fmt.Errorf("tsread: time base %d/%d, want 1/%d", tb.Num(), tb.Den(), clock.Hz)
	}
	dec := astiav.FindDecoder(st.CodecParameters().CodecID())
	if dec == nil {
		return out, errors.New("tsread: no decoder")
	}
	out.Codec = dec.Name()
	cc := astiav.AllocCodecContext(dec)
	if cc == nil {
		return out, errors.New("tsread: alloc codec context")
	}
	defer cc.Free()
	if err := st.CodecParameters().ToCodecContext(cc); err != nil {
		return out, err
	}
	if err := cc.Open(dec, nil); err != nil {
		return out, err
	}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	f := astiav.AllocFrame()
	defer f.Free()
	var buf []byte
	receive := func() error {
		for {
			if err := cc.ReceiveFrame(f); err != nil {
				if errors.Is(err, astiav.ErrEof) || errors.Is(err, astiav.ErrEagain) {
					return nil
				}
				return err
			}
			img, err := picture(f, &buf)
			if err == nil {
				err = each(Frame{PTS: clock.Ticks(f.Pts()), Key: f.KeyFrame(), Image: img})
			}
			f.Unref()
			if err != nil {
				return err
			}
		}
	}
	for {
		if err := fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				break
			}
			return out, fmt.Errorf("tsread: read: %w", err)
		}
		if pkt.StreamIndex() != st.Index() {
			pkt.Unref()
			continue
		}
		if out.Packets == 0 {
			out.FirstPacketKey = pkt.Flags().Has(astiav.PacketFlagKey)
		}
		out.Packets++
		err := cc.SendPacket(pkt)
		pkt.Unref()
		if err != nil {
			return out, fmt.Errorf("tsread: decode: %w", err)
		}
		if err := receive(); err != nil {
			return out, err
		}
	}
	if err := cc.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		return out, err
	}
	return out, receive()
}

// picture copies a decoded YUV420P frame into *buf and returns it as an
// image over *buf. (go-astiav v0.16.0's FrameData.ToImage reads each
// chroma plane as if it were as tall as the picture: twice its size, past
// the end of libav's buffer.)
func picture(f *astiav.Frame, buf *[]byte) (image.Image, error) {
	if f.PixelFormat() != astiav.PixelFormatYuv420P {
		return nil, fmt.Errorf("tsread: pixel format %s, want yuv420p", f.PixelFormat())
	}
	n, err := f.ImageBufferSize(1)
	if err != nil {
		return nil, fmt.Errorf("tsread: %w", err)
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := f.ImageCopyToBuffer(b, 1); err != nil {
		return nil, fmt.Errorf("tsread: %w", err)
	}
	w, h := f.Width(), f.Height()
	cw, ch := (w+1)/2, (h+1)/2
	return &image.YCbCr{
		Y: b[:w*h], Cb: b[w*h : w*h+cw*ch], Cr: b[w*h+cw*ch : w*h+2*cw*ch],
		YStride: w, CStride: cw, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h),
	}, nil
}
