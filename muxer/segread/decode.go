package segread

import (
	"errors"
	"fmt"
	"image"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Frame is one decoded picture.
type Frame struct {
	// PTS is the frame's PTS as read from the file, in ticks (from a TS,
	// modulo 2^33).
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
	in, err := open(path, nil)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	return decode(in, each)
}

// DecodeSegment is Decode for a segment the muxer wrote, in its format: an
// fMP4 segment is read after the init segment in its folder (DecodeFMP4).
func DecodeSegment(seg media.Segment, each func(Frame) error) (File, error) {
	in, err := Open(seg)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	return decode(in, each)
}

// DecodeFMP4 is Decode for the fMP4 media segment at path, read after the
// init segment at initPath, as a player reads them.
func DecodeFMP4(initPath, path string, each func(Frame) error) (File, error) {
	in, err := OpenFMP4(initPath, path)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	return decode(in, each)
}

// decode decodes the video stream of in.
func decode(in *Input, each func(Frame) error) (File, error) {
	var out File
	st := in.Video()
	dec := astiav.FindDecoder(st.CodecParameters().CodecID())
	if dec == nil {
		return out, errors.New("segread: no decoder")
	}
	out.Codec = dec.Name()
	cc := astiav.AllocCodecContext(dec)
	if cc == nil {
		return out, errors.New("segread: alloc codec context")
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
		if err := in.Next(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				break
			}
			return out, err
		}
		if out.Packets == 0 {
			out.FirstPacketKey = pkt.Flags().Has(astiav.PacketFlagKey)
		}
		out.Packets++
		err := cc.SendPacket(pkt)
		pkt.Unref()
		if err != nil {
			return out, fmt.Errorf("segread: decode: %w", err)
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
		return nil, fmt.Errorf("segread: pixel format %s, want yuv420p", f.PixelFormat())
	}
	n, err := f.ImageBufferSize(1)
	if err != nil {
		return nil, fmt.Errorf("segread: %w", err)
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := f.ImageCopyToBuffer(b, 1); err != nil {
		return nil, fmt.Errorf("segread: %w", err)
	}
	w, h := f.Width(), f.Height()
	cw, ch := (w+1)/2, (h+1)/2
	return &image.YCbCr{
		Y: b[:w*h], Cb: b[w*h : w*h+cw*ch], Cr: b[w*h+cw*ch : w*h+2*cw*ch],
		YStride: w, CStride: cw, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h),
	}, nil
}
