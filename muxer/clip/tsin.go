package clip

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// packet is one video packet read from a segment, its timestamps unwrapped
// (the TS carries them modulo 2^33).
type packet struct {
	pts, dts clock.Ticks
	key      bool
	// av is the packet as read; valid only during the callback.
	av *astiav.Packet
	// in is the segment's video stream, for its codec parameters.
	in *astiav.Stream
}

// readPackets demuxes seg's video packets, in decoding order, calling each
// until it returns false or an error.
func readPackets(ctx context.Context, seg media.Segment, each func(packet) (bool, error)) error {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return errors.New("clip: alloc format context")
	}
	defer fc.Free()
	if err := fc.OpenInput(seg.Path, nil, nil); err != nil {
		if _, serr := os.Stat(seg.Path); errors.Is(serr, os.ErrNotExist) {
			return media.ErrFrameGone // deleted while we looked
		}
		return fmt.Errorf("clip: open segment %d: %w", seg.Seq, err)
	}
	defer fc.CloseInput()
	// The codec parameters of H.264 in a TS (its SPS and PPS, for the
	// mp4's avcC) come from its first packets.
	if err := fc.FindStreamInfo(nil); err != nil {
		return fmt.Errorf("clip: segment %d: stream info: %w", seg.Seq, err)
	}
	var in *astiav.Stream
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			in = s
			break
		}
	}
	if in == nil {
		return fmt.Errorf("clip: segment %d has no video stream", seg.Seq)
	}
	if tb := in.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return fmt.Errorf("clip: segment %d: time base %d/%d, want 1/%d", seg.Seq, tb.Num(), tb.Den(), clock.Hz)
	}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return nil
			}
			return fmt.Errorf("clip: read segment %d: %w", seg.Seq, err)
		}
		if pkt.StreamIndex() != in.Index() {
			pkt.Unref()
			continue
		}
		p, err := unwrap(pkt, seg)
		if err != nil {
			pkt.Unref()
			return err
		}
		p.in = in
		more, err := each(p)
		pkt.Unref()
		if err != nil || !more {
			return err
		}
	}
}

// unwrap reads pkt's timestamps: each the latest PTS, not past the end of
// seg, that the TS's 33-bit timestamp stands for.
func unwrap(pkt *astiav.Packet, seg media.Segment) (packet, error) {
	if pkt.Pts() == astiav.NoPtsValue {
		return packet{}, fmt.Errorf("clip: segment %d: a packet without PTS", seg.Seq)
	}
	dts := pkt.Dts()
	if dts == astiav.NoPtsValue {
		dts = pkt.Pts()
	}
	return packet{
		pts: clock.LatestAt(clock.Ticks(pkt.Pts()).TS(), seg.End()),
		dts: clock.LatestAt(clock.Ticks(dts).TS(), seg.End()),
		key: pkt.Flags().Has(astiav.PacketFlagKey),
		av:  pkt,
	}, nil
}
