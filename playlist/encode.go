package playlist

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// encodeLocked writes the playlist.
//
// hlsmark writes it itself rather than through grafov/m3u8's encoder
// (grafov stays the tests' independent reader): grafov writes a segment's
// custom tags after its EXT-X-PROGRAM-DATE-TIME and cannot write a tag
// after the last segment, so a date range added to a live playlist would
// land between lines already served instead of at the end (see
// ranges.go).
//
// Each segment is written as: the EXT-X-DATERANGE tags added while it was
// the next to come, EXT-X-DISCONTINUITY if it follows a gap, EXT-X-MAP if
// it starts a new fMP4 run (see runInit), its EXT-X-PROGRAM-DATE-TIME,
// EXTINF and URI. Tags added since the last
// segment follow it; tags whose segment has left the window precede the
// first listed one, and tags added after Close follow EXT-X-ENDLIST. A
// playlist with no segment lists no tag: a date range needs a program date
// time to refer to (RFC 8216, section 4.3.2.7).
func (p *Playlist) encodeLocked() encoded {
	var e encoded
	var b bytes.Buffer
	// Every segment starts with an IDR frame (and, in MPEG-TS, its own PAT
	// and PMT).
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	var seq media.Seq
	if len(p.segs) > 0 {
		seq = p.segs[0].Seq
	}
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(uint64(seq), 10) + "\n")
	b.WriteString("#EXT-X-TARGETDURATION:" + strconv.Itoa(p.target) + "\n")
	if p.discSeq != 0 {
		b.WriteString("#EXT-X-DISCONTINUITY-SEQUENCE:" + strconv.FormatUint(p.discSeq, 10) + "\n")
	}
	e.head = slices.Clone(b.Bytes())
	b.Reset()
	writeMap(&b, p.cfg.Format, p.run.firstMapURI(p.segs))
	e.mapTag = slices.Clone(b.Bytes())
	tags := p.tags
	if len(p.segs) == 0 {
		tags = nil
	}
	writeTags := func(upTo media.Seq) []byte {
		var b bytes.Buffer
		for len(tags) > 0 && tags[0].before <= upTo {
			tags[0].r.encode(&b)
			b.WriteByte('\n')
			tags = tags[1:]
		}
		return b.Bytes()
	}
	for i, s := range p.segs {
		blk := block{seg: s, tags: writeTags(s.Seq)}
		b.Reset()
		if s.Discontinuity {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if i > 0 && s.Init != p.segs[i-1].Init {
			writeMap(&b, p.cfg.Format, p.run.uri(s)) // a new run (RFC 8216, section 4.3.2.5)
		}
		b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + formatPDT(s.Start) + "\n")
		blk.pre = slices.Clone(b.Bytes())
		blk.uri = []byte("#EXTINF:" + formatMillis(extinfMillis(s.Duration)) + ",\n" + s.Name() + "\n")
		e.blocks = append(e.blocks, blk)
	}
	for _, end := range []bool{false, true} {
		b.Reset()
		if end && p.closed {
			b.WriteString("#EXT-X-ENDLIST\n")
		}
		for _, t := range tags {
			if t.afterEnd == end {
				t.r.encode(&b)
				b.WriteByte('\n')
			}
		}
		if end {
			e.end = slices.Clone(b.Bytes())
		} else {
			e.tail = slices.Clone(b.Bytes())
		}
	}
	return e
}

// encoded is a playlist in pieces, for the parts of Low-Latency HLS to
// go in between (see ll.go).
type encoded struct {
	// head runs from EXT-X-INDEPENDENT-SEGMENTS to
	// EXT-X-DISCONTINUITY-SEQUENCE, mapTag is EXT-X-MAP (if any).
	head, mapTag []byte
	blocks       []block
	// tail is the date ranges after the last segment, end EXT-X-ENDLIST
	// (if closed) and the date ranges added after it.
	tail, end []byte
}

// block is a listed segment's lines: the date ranges added while it was
// the next to come (tags), EXT-X-DISCONTINUITY, EXT-X-MAP and
// EXT-X-PROGRAM-DATE-TIME (pre), EXTINF and its URI (uri).
type block struct {
	seg            media.Segment
	tags, pre, uri []byte
}

// bytes writes the playlist whole, as EXT-X-VERSION version.
func (e encoded) bytes(version int) []byte {
	var b bytes.Buffer
	e.header(&b, version)
	b.Write(e.mapTag)
	for _, blk := range e.blocks {
		b.Write(blk.tags)
		b.Write(blk.pre)
		b.Write(blk.uri)
	}
	b.Write(e.tail)
	b.Write(e.end)
	return b.Bytes()
}

// header writes #EXTM3U, EXT-X-VERSION and head.
func (e encoded) header(b *bytes.Buffer, version int) {
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:" + strconv.Itoa(version) + "\n")
	b.Write(e.head)
}

// version is the playlist's EXT-X-VERSION: 3 for floating-point EXTINF
// durations, 6 for EXT-X-MAP in a playlist that is not I-frames only
// (RFC 8216, sections 4.3.2.5 and 7).
func version(f media.Format) int {
	if f == media.FMP4 {
		return 6
	}
	return 3
}

// extinfMillis is a segment's EXTINF in milliseconds: its duration rounded
// to the nearest millisecond (half up), from ticks, in integers.
func extinfMillis(d clock.Ticks) int64 {
	if d <= 0 {
		return 0
	}
	return (int64(d)*1000 + clock.Hz/2) / clock.Hz
}

// formatMillis writes a count of milliseconds as seconds with three
// decimals.
func formatMillis(ms int64) string {
	frac := strconv.FormatInt(ms%1000, 10)
	for len(frac) < 3 {
		frac = "0" + frac
	}
	return strconv.FormatInt(ms/1000, 10) + "." + frac
}
