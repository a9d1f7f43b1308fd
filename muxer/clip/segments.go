package clip

import (
	"context"
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/muxer/segread"
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
	input, err := segread.Open(seg)
	if errors.Is(err, segread.ErrGone) {
		return media.ErrFrameGone // deleted while we looked
	}
	if err != nil {
		return fmt.Errorf("clip: segment %d: %w", seg.Seq, err)
	}
	defer input.Close()
	in := input.Video()
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := input.Next(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return nil
			}
			return fmt.Errorf("clip: segment %d: %w", seg.Seq, err)
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
