package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// FileScan is what one read of a file's H.264 packets, demuxed but not
// decoded, tells of where a copy of it (--codec copy) can be cut.
type FileScan struct {
	// Size is the video's size.
	Size media.Size
	// Keys are the keyframes' PTS, ascending, in ticks from the first
	// packet's PTS: as a FileSource copying the file maps them, less its
	// base (each one floored, so the gaps between them are the ones the
	// muxer sees).
	Keys []clock.Ticks
	// End is where the file's last picture ends, on the same scale: the
	// latest PTS plus the last step between two packets' DTS.
	End clock.Ticks
}

// ScanFile reads the packets of input's best video stream (the one a
// FileSource reads) without decoding them. A stream that is not H.264 is
// refused with a *NotH264Error.
func ScanFile(input string) (FileScan, error) {
	var scan FileScan
	d, err := openInput(context.Background(), demuxInput{URL: input, Name: "file " + input})
	if err != nil {
		return scan, err
	}
	defer d.close()
	if err := d.checkH264(); err != nil {
		return scan, fmt.Errorf("file %s: %w", input, err)
	}
	p := d.stream.CodecParameters()
	scan.Size = media.Size{Width: p.Width(), Height: p.Height()}
	tb := d.stream.TimeBase()
	num, den := int64(tb.Num()), int64(tb.Den())
	origin, packets, dtsSeen := int64(0), 0, false
	var latest, lastDTS, step clock.Ticks
	for {
		if err := d.fc.ReadFrame(d.pkt); errors.Is(err, astiav.ErrEof) {
			break
		} else if err != nil {
			return scan, fmt.Errorf("file %s: read: %w", input, err)
		}
		pts, dts, key := d.pkt.Pts(), d.pkt.Dts(), d.pkt.Flags().Has(astiav.PacketFlagKey)
		ours := d.pkt.StreamIndex() == d.stream.Index()
		d.pkt.Unref()
		if !ours || pts == noPTS {
			continue
		}
		if packets == 0 {
			origin = pts
		}
		packets++
		rp, ok := clock.FromTimeBase(pts-origin, num, den)
		if !ok {
			return scan, fmt.Errorf("file %s: timestamp %d in %d/%d is out of range", input, pts, num, den)
		}
		if key {
			scan.Keys = append(scan.Keys, rp)
		}
		latest = max(latest, rp)
		if dts == noPTS { // a Matroska file's first packets
			continue
		}
		rd, ok := clock.FromTimeBase(dts-origin, num, den)
		if !ok {
			return scan, fmt.Errorf("file %s: timestamp %d in %d/%d is out of range", input, dts, num, den)
		}
		if dtsSeen {
			step = rd - lastDTS
		}
		lastDTS, dtsSeen = rd, true
	}
	if len(scan.Keys) == 0 {
		return scan, fmt.Errorf("file %s: no keyframe in its video", input)
	}
	slices.Sort(scan.Keys)
	if step <= 0 {
		step = defaultFrameStep
	}
	scan.End = latest + step
	return scan, nil
}
