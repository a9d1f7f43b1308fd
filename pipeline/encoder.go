package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/avpkt"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// EncoderConfig configures the H.264 encoder.
type EncoderConfig struct {
	Size media.Size
	FPS  int
	// Preset and Tune are libx264's (for example veryfast and zerolatency;
	// an empty Tune sets none).
	Preset, Tune string
	// BFrames is the most B-frames in a row; 0 keeps DTS equal to PTS.
	BFrames int
	// KeyInterval is the least time between two IDRs: the first frame at
	// least KeyInterval after the previous IDR is forced to be one. Set it
	// to the segment duration so every segment opens with an IDR.
	KeyInterval time.Duration
}

// Validate reports the first configuration error, naming the setting.
func (c EncoderConfig) Validate() error {
	if err := c.Size.Validate(); err != nil {
		return err
	}
	switch {
	case c.FPS < 1:
		return fmt.Errorf("fps %d: must be positive", c.FPS)
	case !slices.Contains(presets, c.Preset):
		return fmt.Errorf("preset %q: must be one of %s", c.Preset, strings.Join(presets, ", "))
	case c.Tune != "" && !slices.Contains(tunes, c.Tune):
		return fmt.Errorf("tune %q: must be empty or one of %s", c.Tune, strings.Join(tunes, ", "))
	case c.BFrames < 0 || c.BFrames > 16:
		return fmt.Errorf("bframes %d: must be from 0 to 16", c.BFrames)
	case c.KeyInterval <= 0:
		return fmt.Errorf("key interval %s: must be positive", c.KeyInterval)
	}
	return nil
}

// presets and tunes are libx264's (x264_preset_names, x264_tune_names).
var (
	presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}
	tunes   = []string{"film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode", "zerolatency"}
)

// timeBase is the encoder's and the muxer's time base: PTS are in ticks.
var timeBase = astiav.NewRational(1, clock.Hz)

// Encoder turns frames into H.264 packets with libx264 through
// libavcodec. Each packet's PTS is its frame's PTS, unchanged: the codec's
// time base is 1/90000, the same as the frame's ticks. An Encoder is not
// safe for concurrent use; Close frees every libav object it holds.
type Encoder struct {
	cfg     EncoderConfig
	codec   *astiav.CodecContext
	pkt     *astiav.Packet
	lastKey clock.Ticks
	started bool
	// discAt is the PTS of the last frame marked Discontinuity: its
	// packet, an IDR, carries the mark.
	discAt  clock.Ticks
	discOut bool // a packet at discAt is still to come
}

// NewEncoder opens libx264 with cfg.
func NewEncoder(cfg EncoderConfig) (_ *Encoder, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Encoder{cfg: cfg}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		return nil, errors.New("encoder: libx264 is not in this libavcodec")
	}
	e.codec = astiav.AllocCodecContext(codec)
	if e.codec == nil {
		return nil, errors.New("encoder: cannot allocate codec context")
	}
	e.codec.SetWidth(cfg.Size.Width)
	e.codec.SetHeight(cfg.Size.Height)
	e.codec.SetPixelFormat(astiav.PixelFormatYuv420P)
	e.codec.SetTimeBase(timeBase)
	e.codec.SetFramerate(astiav.NewRational(cfg.FPS, 1))
	// IDRs come only where the encoder forces them: no GOP limit, no scene
	// cuts. A forced I picture becomes an IDR (forced-idr).
	e.codec.SetGopSize(-1)

	opts := astiav.NewDictionary()
	defer opts.Free()
	set := map[string]string{
		"preset":      cfg.Preset,
		"forced-idr":  "1",
		"bf":          strconv.Itoa(cfg.BFrames),
		"x264-params": "scenecut=0:keyint=infinite",
	}
	if cfg.Tune != "" {
		set["tune"] = cfg.Tune
	}
	for k, v := range set {
		if err := opts.Set(k, v, 0); err != nil {
			return nil, fmt.Errorf("encoder: option %s=%s: %w", k, v, err)
		}
	}
	if err := e.codec.Open(codec, opts); err != nil {
		return nil, fmt.Errorf("encoder: open libx264 (preset %q, tune %q): %w", cfg.Preset, cfg.Tune, err)
	}

	e.pkt = astiav.AllocPacket()
	return e, nil
}

// Encode encodes one frame, and passes every packet the encoder has ready
// to out. It encodes the picture f.Convert made, or converts f itself if
// there is none for f's PTS (the frame then keeps that picture: Free it
// when done). The frame is forced to be an IDR if it is the first one or at
// least KeyInterval after the last IDR, or marked Discontinuity.
func (e *Encoder) Encode(f *Frame, out func(media.Packet) error) error {
	if f.Size != e.cfg.Size {
		return fmt.Errorf("encoder: frame is %s, encoder is for %s", f.Size, e.cfg.Size)
	}
	yuv := f.converted()
	if yuv == nil {
		if err := f.Convert(); err != nil {
			return fmt.Errorf("encoder: %w", err)
		}
		yuv = f.yuv.av
	}
	f.yuv.fresh = false
	yuv.SetPts(int64(f.PTS))
	yuv.SetPictureType(astiav.PictureTypeNone)
	if f.Discontinuity {
		e.discAt, e.discOut = f.PTS, true
	}
	if !e.started || f.Discontinuity || f.PTS-e.lastKey >= clock.FromDuration(e.cfg.KeyInterval) {
		yuv.SetPictureType(astiav.PictureTypeI)
		e.started, e.lastKey = true, f.PTS
	}
	// libx264 copies the picture before SendFrame returns, and libavcodec
	// drops its reference then: the buffer is the frame's again.
	if err := e.codec.SendFrame(yuv); err != nil {
		return fmt.Errorf("encoder: send frame at %s: %w", f.PTS, err)
	}
	return e.drain(out)
}

// Flush drains the packets the encoder still holds. Encode must not be
// called after Flush.
func (e *Encoder) Flush(out func(media.Packet) error) error {
	if err := e.codec.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		return fmt.Errorf("encoder: flush: %w", err)
	}
	return e.drain(out)
}

func (e *Encoder) drain(out func(media.Packet) error) error {
	for {
		if err := e.codec.ReceivePacket(e.pkt); err != nil {
			if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
				return nil
			}
			return fmt.Errorf("encoder: receive packet: %w", err)
		}
		p := media.Packet{
			Data: avpkt.Bytes(e.pkt), // no copy: valid until Unref
			PTS:  clock.Ticks(e.pkt.Pts()),
			DTS:  clock.Ticks(e.pkt.Dts()),
			Key:  e.pkt.Flags().Has(astiav.PacketFlagKey),
		}
		if e.discOut && p.Key && p.PTS == e.discAt {
			p.Discontinuity, e.discOut = true, false
		}
		err := out(p)
		e.pkt.Unref()
		if err != nil {
			return err
		}
	}
}

// Close frees the encoder's libav objects. It is safe to call on a
// partly built or already closed encoder.
func (e *Encoder) Close() {
	if e.pkt != nil {
		e.pkt.Free()
		e.pkt = nil
	}
	if e.codec != nil {
		e.codec.Free()
		e.codec = nil
	}
}
