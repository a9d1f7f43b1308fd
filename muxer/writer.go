package muxer

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// segmentWriter is one open MPEG-TS file: its own format context, so every
// segment begins with PAT and PMT and can be played on its own.
type segmentWriter struct {
	seg     media.Segment
	tmp     string
	fc      *astiav.FormatContext
	io      *astiav.IOContext
	lastPTS clock.Ticks // latest PTS in presentation order
	prevGap clock.Ticks // from the frame shown before lastPTS to it
}

// tmpName is where a segment is written before it is complete. The dot
// keeps it out of any listing of segment names.
func tmpName(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
}

func openSegment(seg media.Segment, size media.Size, fps int) (_ *segmentWriter, err error) {
	w := &segmentWriter{seg: seg, tmp: tmpName(seg.Path)}
	defer func() {
		if err != nil {
			w.free()
			os.Remove(w.tmp)
		}
	}()
	of := astiav.FindOutputFormat("mpegts")
	if of == nil {
		return nil, errNoMpegts
	}
	if w.fc, err = astiav.AllocOutputFormatContext(of, "", w.tmp); err != nil {
		return nil, fmt.Errorf("alloc format context: %w", err)
	}
	st := w.fc.NewStream(nil)
	if st == nil {
		return nil, fmt.Errorf("new stream failed")
	}
	cp := st.CodecParameters()
	cp.SetCodecType(astiav.MediaTypeVideo)
	cp.SetCodecID(astiav.CodecIDH264)
	cp.SetWidth(size.Width)
	cp.SetHeight(size.Height)
	st.SetTimeBase(astiav.NewRational(1, clock.Hz))
	st.SetAvgFrameRate(astiav.NewRational(fps, 1))
	if w.io, err = astiav.OpenIOContext(w.tmp, astiav.NewIOContextFlags(astiav.IOContextFlagWrite)); err != nil {
		return nil, fmt.Errorf("open %s: %w", w.tmp, err)
	}
	w.fc.SetPb(w.io)
	opts := astiav.NewDictionary()
	defer opts.Free()
	// mpegts_copyts writes PTS as given; without it the muxer adds its
	// max_delay to every timestamp. Negative-timestamp shifting is off too:
	// each segment has its own context, and a shift computed per segment
	// would differ from one to the next.
	for k, v := range map[string]string{"mpegts_copyts": "1", "avoid_negative_ts": "disabled"} {
		if err := opts.Set(k, v, 0); err != nil {
			return nil, fmt.Errorf("option %s: %w", k, err)
		}
	}
	if err := w.fc.WriteHeader(opts); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	if tb := st.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return nil, fmt.Errorf("mpegts changed the time base to %d/%d", tb.Num(), tb.Den())
	}
	return w, nil
}

// write writes pkt, whose payload is p.Data, stamped with p's timestamps.
// WriteFrame (av_write_frame) neither takes pkt nor copies its payload.
func (w *segmentWriter) write(pkt *astiav.Packet, p media.Packet) error {
	pkt.SetPts(int64(p.PTS))
	pkt.SetDts(int64(p.DTS))
	pkt.SetStreamIndex(0)
	if p.Key {
		pkt.SetFlags(pkt.Flags().Add(astiav.PacketFlagKey))
	}
	if err := w.fc.WriteFrame(pkt); err != nil {
		return fmt.Errorf("write packet at %s: %w", p.PTS, err)
	}
	// Packets come in decode order: with B-frames the last packet is not
	// the last frame shown, so keep the latest PTS and the gap to the frame
	// shown just before it.
	switch {
	case w.seg.Frames == 0:
		w.lastPTS = p.PTS
	case p.PTS > w.lastPTS:
		w.prevGap, w.lastPTS = p.PTS-w.lastPTS, p.PTS
	case w.prevGap == 0 || w.lastPTS-p.PTS < w.prevGap:
		w.prevGap = w.lastPTS - p.PTS
	}
	w.seg.Frames++
	return nil
}

// frameGap estimates the last frame's duration: the gap before it, or one
// nominal frame interval when the segment holds a single frame.
func (w *segmentWriter) frameGap(fps int) clock.Ticks {
	if w.prevGap > 0 {
		return w.prevGap
	}
	return clock.Hz / clock.Ticks(fps)
}

// close writes the trailer, flushes the file to disk and frees libav state.
func (w *segmentWriter) close() error {
	err := w.fc.WriteTrailer()
	if cerr := w.io.Close(); err == nil {
		err = cerr
	}
	w.io = nil
	w.free()
	if err != nil {
		return err
	}
	return syncFile(w.tmp)
}

func (w *segmentWriter) free() {
	if w.io != nil {
		w.io.Close()
		w.io = nil
	}
	if w.fc != nil {
		w.fc.Free()
		w.fc = nil
	}
}

// syncFile flushes a closed file's data to stable storage, so a segment
// that the playlist lists survives a crash of the machine.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
