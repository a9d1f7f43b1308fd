package muxer

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// parts cuts the segment being written into the partial segments of
// Low-Latency HLS (Config.Part): one movie fragment each, flushed into the
// segment's file before a frame would make the fragment last longer than
// the part target, and read back from that file once flushed, so that a
// part's bytes are exactly those the segment's file holds.
//
// A part's time runs from its first frame to the next part's: the first
// part starts at the segment's first PTS, the others at their first
// packet's DTS moved by the segment's composition offset (FirstPTS minus
// its first DTS; zero without B-frames), the last ends where the segment
// ends. A frame that comes so late that the part would outgrow the target
// ends the part at the target: its last frame's sample lasts only that
// long, and the next part's tfdt (frag_discont) is its own DTS, so the
// PTS stay exact while EXT-X-PART never exceeds PART-TARGET.
type parts struct {
	target clock.Ticks
	// index, start, frames and key describe the part being written: its
	// place in the segment, its start (PTS), its packets, whether its
	// first packet is an IDR.
	index  int
	start  clock.Ticks
	frames int
	key    bool
	// offset is where the part starts in the segment's file.
	offset int64
	// shift is the segment's first PTS minus its first DTS.
	shift clock.Ticks
	// lastDTS and step are the last packet's DTS and the DTS step to it:
	// the duration a packet written next is expected to last.
	lastDTS clock.Ticks
	step    clock.Ticks
}

// fragmenter is a container that can end a movie fragment mid-segment:
// the fMP4 one.
type fragmenter interface {
	flushFragment(next clock.Ticks) error
}

// openParts starts the first part of a segment whose first packet is p.
func (c *parts) openParts(p media.Packet, firstPTS clock.Ticks) {
	*c = parts{target: c.target, start: firstPTS, key: true, shift: firstPTS - p.DTS, lastDTS: p.DTS, step: c.step}
}

// full reports whether p would make the part being written last longer
// than the target: p's DTS plus the last step, past the part's start plus
// the target.
func (c *parts) full(p media.Packet) bool {
	return c.frames > 0 && p.DTS+c.shift+c.step-c.start > c.target
}

// add counts p, written into the part.
func (c *parts) add(p media.Packet) {
	if c.frames > 0 {
		if d := p.DTS - c.lastDTS; d > 0 {
			c.step = d
		}
	} else {
		c.key = p.Key
	}
	c.lastDTS = p.DTS
	c.frames++
}

// cutPart ends the part being written before p, flushing its fragment,
// and returns it; the next part starts with p.
func (m *Muxer) cutPart(p media.Packet) (media.Part, error) {
	c := m.parts
	end := min(p.DTS+c.shift, c.start+c.target)
	fr, ok := m.ts.(fragmenter)
	if !ok {
		return media.Part{}, errors.New("parts need the fMP4 container")
	}
	if err := fr.flushFragment(end - c.shift); err != nil {
		return media.Part{}, err
	}
	part, err := c.read(m.cur, end-c.start)
	if err != nil {
		return media.Part{}, err
	}
	c.index++
	c.start, c.frames = p.DTS+c.shift, 0
	return part, nil
}

// last returns the last part of segment f, whose fragment the container
// flushed, lasting the rest of the segment's duration d (at most the
// target).
func (c *parts) last(f *segmentFile, d clock.Ticks) (media.Part, error) {
	return c.read(f, min(f.seg.FirstPTS+d-c.start, c.target))
}

// read returns the part just flushed into f's file, lasting d, read back
// from the file.
func (c *parts) read(f *segmentFile, d clock.Ticks) (media.Part, error) {
	f.out.Flush()
	data, err := readFrom(f.tmp, c.offset)
	if err != nil {
		return media.Part{}, fmt.Errorf("read part %d back: %w", c.index, err)
	}
	if len(data) == 0 {
		return media.Part{}, fmt.Errorf("part %d: the fragment is empty", c.index)
	}
	c.offset += int64(len(data))
	return media.Part{Seq: f.seg.Seq, Index: c.index, Start: c.start, Duration: d, Independent: c.key,
		Discontinuity: c.index == 0 && f.seg.Discontinuity, Data: data}, nil
}

// publishPart tells Config.PublishPart, if set, of part.
func (m *Muxer) publishPart(part media.Part) error {
	if m.cfg.PublishPart == nil {
		return nil
	}
	return m.cfg.PublishPart(part)
}

// readFrom returns the bytes of the file at path from offset to its end.
func readFrom(path string, offset int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}
