// Package tspackets lists an MPEG-TS file packet by packet, and its PES
// packets, with github.com/asticode/go-astits: pure Go, sharing no code
// with libav, which writes hlsmark's segments. Tests use it as a reader
// that trusts nothing but the bytes, as a player's demuxer would: the
// continuity counters and discontinuity indicators of every PID, the
// tables a segment starts with, and the PTS of every picture.
package tspackets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/asticode/go-astits"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Size is the size of a transport stream packet.
const Size = 188

// PIDPAT is the PID of the program association table.
const PIDPAT = astits.PIDPAT

// Packet is one transport stream packet's header and adaptation flags.
type Packet struct {
	PID uint16
	// Counter is the continuity_counter. It counts only the packets of
	// its PID that carry a payload (ISO/IEC 13818-1, 2.4.3.3).
	Counter uint8
	// Payload is set when the packet carries a payload.
	Payload bool
	// PayloadStart is the payload_unit_start_indicator: a PES packet or a
	// table section begins in this packet.
	PayloadStart bool
	// Discontinuity is the adaptation field's discontinuity_indicator.
	Discontinuity bool
	// RandomAccess is the adaptation field's random_access_indicator.
	RandomAccess bool
}

// PES is one PES packet: in hlsmark's segments, one picture.
type PES struct {
	PID uint16
	// PTS and DTS are the header's, 33-bit 90 kHz ticks as the TS carries
	// them. DTS equals PTS when the header carries none, as the standard
	// says it then does.
	PTS, DTS clock.Ticks
	// RandomAccess is the random_access_indicator of its first packet.
	RandomAccess bool
	// IDR is set when its payload holds an H.264 IDR slice (an Annex B
	// NAL unit of type 5).
	IDR bool
}

// File is what Read found in a file.
type File struct {
	// Packets lists every packet, in file order.
	Packets []Packet
	// PMT is the PID of the first program's map, as the first PAT says;
	// Video the PID of the H.264 stream, as the first PMT says.
	PMT, Video uint16
	// PES lists every PES packet of every PID, in file order.
	PES []PES
}

// Read reads the transport stream file at path.
func Read(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("tspackets: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return File{}, fmt.Errorf("tspackets: %s: %w", path, err)
	}
	return f, nil
}

// Parse reads a whole transport stream held in b.
func Parse(b []byte) (File, error) {
	var f File
	if len(b) == 0 || len(b)%Size != 0 {
		return f, fmt.Errorf("%d bytes: not a whole number of %d-byte packets", len(b), Size)
	}
	packets := astits.NewDemuxer(context.Background(), bytes.NewReader(b), astits.DemuxerOptPacketSize(Size))
	for {
		p, err := packets.NextPacket()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			return f, fmt.Errorf("packet %d: %w", len(f.Packets), err)
		}
		pkt := Packet{
			PID:          p.Header.PID,
			Counter:      p.Header.ContinuityCounter,
			Payload:      p.Header.HasPayload,
			PayloadStart: p.Header.PayloadUnitStartIndicator,
		}
		if a := p.AdaptationField; p.Header.HasAdaptationField && a != nil {
			pkt.Discontinuity, pkt.RandomAccess = a.DiscontinuityIndicator, a.RandomAccessIndicator
		}
		f.Packets = append(f.Packets, pkt)
	}
	if len(f.Packets) != len(b)/Size {
		return f, fmt.Errorf("%d packets read from %d bytes", len(f.Packets), len(b))
	}
	return f, f.readData(b)
}

// readData reads the tables and PES packets, in a second pass: go-astits
// reassembles them, but drops the packets without payload on the way.
func (f *File) readData(b []byte) error {
	var pat, pmt bool
	data := astits.NewDemuxer(context.Background(), bytes.NewReader(b), astits.DemuxerOptPacketSize(Size))
	for {
		d, err := data.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		switch {
		case d.PAT != nil && !pat:
			for _, p := range d.PAT.Programs {
				if p.ProgramNumber > 0 && !pat {
					f.PMT, pat = p.ProgramMapID, true
				}
			}
		case d.PMT != nil && !pmt && pat && d.PID == f.PMT:
			for _, es := range d.PMT.ElementaryStreams {
				if es.StreamType == astits.StreamTypeH264Video && !pmt {
					f.Video, pmt = es.ElementaryPID, true
				}
			}
		case d.PES != nil:
			f.PES = append(f.PES, pes(d))
		}
	}
	switch {
	case !pat:
		return errors.New("no PAT naming a program")
	case !pmt:
		return fmt.Errorf("no PMT on PID %d naming an H.264 stream", f.PMT)
	}
	return nil
}

func pes(d *astits.DemuxerData) PES {
	out := PES{PID: d.PID, IDR: hasIDR(d.PES.Data)}
	if a := d.FirstPacket.AdaptationField; d.FirstPacket.Header.HasAdaptationField && a != nil {
		out.RandomAccess = a.RandomAccessIndicator
	}
	if h := d.PES.Header.OptionalHeader; h != nil && h.PTS != nil {
		out.PTS, out.DTS = clock.Ticks(h.PTS.Base), clock.Ticks(h.PTS.Base)
		if h.DTS != nil {
			out.DTS = clock.Ticks(h.DTS.Base)
		}
	}
	return out
}

// hasIDR reports whether the H.264 Annex B byte stream b holds a NAL unit
// of type 5, a slice of an IDR picture (ITU-T H.264, table 7-1).
func hasIDR(b []byte) bool {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 && b[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}

// Lead returns the packets before the first packet of the video stream:
// what a reader gets before any picture.
func (f File) Lead() []Packet {
	for i, p := range f.Packets {
		if p.PID == f.Video {
			return f.Packets[:i]
		}
	}
	return f.Packets
}

// TablesFirst reports whether a PAT and the PMT it names both come before
// the first packet of the video stream, so that the file can be read on
// its own from its start.
func (f File) TablesFirst() bool {
	var pat, pmt bool
	for _, p := range f.Lead() {
		pat = pat || p.PID == PIDPAT && p.PayloadStart
		pmt = pmt || pat && p.PID == f.PMT && p.PayloadStart
	}
	return pat && pmt
}

// VideoPES returns the PES packets of the video stream, in file order:
// decode order.
func (f File) VideoPES() []PES {
	var out []PES
	for _, p := range f.PES {
		if p.PID == f.Video {
			out = append(out, p)
		}
	}
	return out
}
