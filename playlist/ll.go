package playlist

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Low-Latency HLS (RFC 8216bis, sections 4.4.3.7 to 4.4.5.2 and 6.2.5).
//
// Parts (Config.Part) live in memory only: the files on disk (playlist
// and state) are written as without parts, and a restarted server lists
// none for the segments of the run before. Live renders the playlist
// served to players: the pieces of the view as last written (its
// segments durable), with the parts in memory between them, so a new part
// is listed at once, without a disk write. Every change readers can see
// (a part, a view written) closes the channel Changed returned, which is
// what blocking playlist reloads wait on.

// partState is the parts in memory, guarded by Playlist.pubMu.
type partState struct {
	// parts are ordered by sequence number and index, from the oldest
	// segment whose parts are kept.
	parts []media.Part
	// starts are the start PTS of the parts listed in this run, by
	// segment, for the segments still listed or retained: where Locate
	// finds a PTS's part. They outlive the parts' bytes.
	starts map[media.Seq][]clock.Ticks
	// changed is closed, and replaced, at every change readers can see.
	changed chan struct{}
}

// skipFactor is CAN-SKIP-UNTIL in target durations: the least RFC
// 8216bis allows (section 4.4.3.8).
const skipFactor = 6

// partHoldBack is PART-HOLD-BACK in part targets: three, as RFC 8216bis
// recommends (section 4.4.3.8).
const partHoldBack = 3

// listedSpan is how far from the playlist's end, in target durations, a
// segment's parts stay listed (RFC 8216bis, section 6.2.2: not removed
// before they are that old).
const listedSpan = 3

// ErrTooFar is for a blocking reload asking for a segment or part too far
// ahead of the playlist (RFC 8216bis, section 6.2.5.2): answered 400.
var ErrTooFar = errors.New("too far beyond the end of the playlist")

// ErrPartTooLong is returned by AddPart for a part longer than the part
// target, which no EXT-X-PART may exceed.
var ErrPartTooLong = errors.New("part longer than the part target")

// LowLatency reports whether the playlist lists parts (Config.Part).
func (p *Playlist) LowLatency() bool { return p.cfg.Part > 0 }

// PartTarget returns the part target duration; 0 without parts.
func (p *Playlist) PartTarget() time.Duration { return p.cfg.Part }

// AddPart lists a part of the segment being written (see media.Part) and
// keeps its bytes for Part. A part with index 0 starts its segment anew,
// dropping parts of a segment with its number or a later one (a segment
// the muxer lost); any other must follow the last part added.
func (p *Playlist) AddPart(part media.Part) error {
	if p.cfg.Part <= 0 {
		return fmt.Errorf("playlist: part %s added, parts are off", part.Name())
	}
	if part.Duration > clock.FromDuration(p.cfg.Part) || part.Duration <= 0 {
		return fmt.Errorf("playlist: part %s lasts %s, target %s: %w", part.Name(), part.Duration, p.cfg.Part, ErrPartTooLong)
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	ps := &p.parts
	if part.Index == 0 {
		i := len(ps.parts)
		for i > 0 && ps.parts[i-1].Seq >= part.Seq {
			i--
		}
		ps.parts = ps.parts[:i]
	} else if n := len(ps.parts); n == 0 || ps.parts[n-1].Seq != part.Seq || ps.parts[n-1].Index+1 != part.Index {
		return fmt.Errorf("playlist: part %s does not follow the last part", part.Name())
	}
	ps.parts = append(ps.parts, part)
	p.keepStartLocked(part)
	p.partsChangedLocked()
	return nil
}

// keepStartLocked records part's start for Locate, dropping the starts of
// segments no longer listed nor retained and, for a part 0, those of its
// segment and later ones (a segment the muxer lost). pubMu is held.
func (p *Playlist) keepStartLocked(part media.Part) {
	ps := &p.parts
	if ps.starts == nil {
		ps.starts = map[media.Seq][]clock.Ticks{}
	}
	oldest := part.Seq
	if len(p.pub.segs) > 0 {
		oldest = p.pub.segs[0].Seq
	}
	if len(p.pub.retired) > 0 {
		oldest = min(oldest, p.pub.retired[0].Seq)
	}
	for seq := range ps.starts {
		if seq < oldest || part.Index == 0 && seq >= part.Seq {
			delete(ps.starts, seq)
		}
	}
	ps.starts[part.Seq] = append(ps.starts[part.Seq], part.Start)
}

// partOfLocked returns pos, of a PTS in the segment starting at first,
// with the index of the part holding it, if this run listed the
// segment's parts. pubMu is held.
func (p *Playlist) partOfLocked(pos Position, first clock.Ticks) Position {
	starts := p.parts.starts[pos.Seq]
	if len(starts) == 0 || starts[0] != first {
		return pos
	}
	pts := first + pos.Offset
	i := sort.Search(len(starts), func(i int) bool { return starts[i] > pts })
	pos.Part, pos.PartKnown = i-1, true
	return pos
}

// locatePendingLocked locates pts in the listed parts of the segment
// being written. pubMu is held.
func (p *Playlist) locatePendingLocked(pts clock.Ticks) (Position, bool) {
	if p.cfg.Part <= 0 || p.pub.closed {
		return Position{}, false
	}
	pending := p.partsOfLocked(p.nextLocked())
	if len(pending) == 0 {
		return Position{}, false
	}
	first, last := pending[0], pending[len(pending)-1]
	if pts < first.Start || pts >= last.Start+last.Duration {
		return Position{}, false
	}
	return p.partOfLocked(Position{Seq: first.Seq, Offset: pts - first.Start}, first.Start), true
}

// partsChangedLocked drops the parts no longer listed, but those of the
// segment before the oldest listed ones (still being fetched by players
// that read the playlist before), and wakes the waiters. pubMu is held.
func (p *Playlist) partsChangedLocked() {
	if p.cfg.Part <= 0 {
		return
	}
	ps := &p.parts
	keep := p.listedFromLocked()
	if keep > 0 {
		keep--
	}
	i := 0
	for i < len(ps.parts) && ps.parts[i].Seq < keep {
		i++
	}
	if i > 0 {
		ps.parts = append([]media.Part(nil), ps.parts[i:]...)
	}
	if ps.changed != nil {
		close(ps.changed)
	}
	ps.changed = make(chan struct{})
}

// Changed returns a channel closed at the next change of what Live
// lists: wait on it, then look again.
func (p *Playlist) Changed() <-chan struct{} {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	if p.parts.changed == nil {
		p.parts.changed = make(chan struct{})
	}
	return p.parts.changed
}

// nextLocked is the sequence number of the segment being written: after
// the last listed one, or the first part's if none is listed.
func (p *Playlist) nextLocked() media.Seq {
	if n := len(p.pub.segs); n > 0 {
		return p.pub.segs[n-1].Seq + 1
	}
	if len(p.parts.parts) > 0 {
		return p.parts.parts[0].Seq
	}
	return 0
}

// partsOfLocked returns the parts in memory of segment seq.
func (p *Playlist) partsOfLocked(seq media.Seq) []media.Part {
	var out []media.Part
	for _, part := range p.parts.parts {
		if part.Seq == seq {
			out = append(out, part)
		}
	}
	return out
}

// listing is what Live lists, worked out from the published view and the
// parts in memory.
type listing struct {
	// pending are the parts of the segment being written.
	pending []media.Part
	// withParts[i] says whether block i's parts are listed.
	withParts []bool
	// total is the playlist's duration, pending parts included.
	total clock.Ticks
}

// listingLocked works out the listing. pubMu is held.
func (p *Playlist) listingLocked() listing {
	blocks := p.pub.pieces.blocks
	l := listing{withParts: make([]bool, len(blocks))}
	if !p.pub.closed {
		l.pending = p.partsOfLocked(p.nextLocked())
	}
	for _, part := range l.pending {
		l.total += part.Duration
	}
	span := clock.Ticks(listedSpan*p.pub.target) * clock.Hz
	for i := len(blocks) - 1; i >= 0; i-- {
		l.withParts[i] = l.total < span
		l.total += blocks[i].seg.Duration
	}
	return l
}

// listedFromLocked is the oldest segment whose parts are listed.
func (p *Playlist) listedFromLocked() media.Seq {
	l := p.listingLocked()
	for i, with := range l.withParts {
		if with {
			return p.pub.pieces.blocks[i].seg.Seq
		}
	}
	return p.nextLocked()
}

// skipUntilLocked is CAN-SKIP-UNTIL, or 0 if the window is too short
// for a delta update to skip anything.
func (p *Playlist) skipUntilLocked() clock.Ticks {
	d := clock.Ticks(skipFactor*p.pub.target) * clock.Hz
	if clock.FromDuration(p.cfg.Window) <= d {
		return 0
	}
	return d
}

// Live returns the playlist as served to players: with parts (Config.Part),
// EXT-X-PART-INF, EXT-X-SERVER-CONTROL, the parts of the segments less
// than three target durations from the end and of the segment being
// written, and EXT-X-PRELOAD-HINT for the next part; as Encoded without.
// skip asks for a delta update (_HLS_skip=YES): the segments older than
// CAN-SKIP-UNTIL are replaced by EXT-X-SKIP (their date ranges are kept,
// as CAN-SKIP-DATERANGES is not offered).
func (p *Playlist) Live(skip bool) []byte {
	if p.cfg.Part <= 0 {
		return p.Encoded()
	}
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	e := p.pub.pieces
	l := p.listingLocked()
	until := p.skipUntilLocked()
	skipped := 0
	if skip && until > 0 {
		end := clock.Ticks(0)
		for _, blk := range e.blocks {
			end += blk.seg.Duration
			if l.total-end < until {
				break
			}
			skipped++
		}
	}
	var b bytes.Buffer
	version := 6 // EXT-X-MAP
	if until > 0 {
		version = 9 // EXT-X-SKIP, or CAN-SKIP-UNTIL offering it
	}
	e.header(&b, version)
	b.WriteString("#EXT-X-PART-INF:PART-TARGET=" + formatMillis(p.cfg.Part.Milliseconds()) + "\n")
	b.WriteString("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" +
		formatMillis(partHoldBack*p.cfg.Part.Milliseconds()))
	if until > 0 {
		b.WriteString(",CAN-SKIP-UNTIL=" + formatMillis(extinfMillis(until)))
	}
	b.WriteString("\n")
	if skipped > 0 {
		// The first segment listed may be of a later run than the
		// first one skipped.
		writeMap(&b, p.cfg.Format, p.pub.run.uri(e.blocks[skipped].seg))
	} else {
		b.Write(e.mapTag)
	}
	if skipped > 0 {
		b.WriteString("#EXT-X-SKIP:SKIPPED-SEGMENTS=" + strconv.Itoa(skipped) + "\n")
	}
	for i, blk := range e.blocks {
		b.Write(blk.tags)
		if i < skipped {
			continue
		}
		b.Write(blk.pre)
		if l.withParts[i] {
			writeParts(&b, p.partsOfLocked(blk.seg.Seq))
		}
		b.Write(blk.uri)
	}
	b.Write(e.tail)
	if !p.pub.closed {
		if len(l.pending) > 0 && l.pending[0].Discontinuity && l.pending[0].Index == 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if n := len(e.blocks); len(l.pending) > 0 && n > 0 && p.pub.run.uri(e.blocks[n-1].seg) != media.InitName {
			// The segment being written is of the current run, which
			// the last one listed is not: after a restart, before the
			// first new segment is added.
			writeMap(&b, p.cfg.Format, media.InitName)
		}
		writeParts(&b, l.pending)
		b.WriteString("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + p.hintLocked().Name() + "\"\n")
	}
	b.Write(e.end)
	return b.Bytes()
}

// writeParts writes an EXT-X-PART tag for each part.
func writeParts(b *bytes.Buffer, parts []media.Part) {
	for _, part := range parts {
		b.WriteString("#EXT-X-PART:DURATION=" + formatMillis(extinfMillis(part.Duration)) + ",URI=\"" + part.Name() + "\"")
		if part.Independent {
			b.WriteString(",INDEPENDENT=YES")
		}
		b.WriteString("\n")
	}
}

// partRef names a part.
type partRef struct {
	seq   media.Seq
	index int
}

// Name is the part's URI.
func (r partRef) Name() string { return media.PartName(r.seq, r.index) }

// hintLocked is the next part to come: after the last part in memory, or
// the first of the segment being written.
func (p *Playlist) hintLocked() partRef {
	if n := len(p.parts.parts); n > 0 {
		last := p.parts.parts[n-1]
		if last.Seq >= p.nextLocked() {
			return partRef{last.Seq, last.Index + 1}
		}
	}
	return partRef{p.nextLocked(), 0}
}

// advancePartLimit is how many parts past the last listed one a blocking
// reload may ask for (RFC 8216bis, section 6.2.5.2): three divided by the
// part target in seconds, or three for targets of a second or more.
func (p *Playlist) advancePartLimit() int {
	if p.cfg.Part < time.Second {
		return int(3 * time.Second / p.cfg.Part)
	}
	return 3
}

// Ready reports whether Live lists segment msn whole (part < 0) or its
// part with that index (RFC 8216bis, section 6.2.5.2). A part index past
// the last part of a finished segment is part 0 of the next. It returns
// ErrTooFar for msn more than two past the last listed segment, or a part
// more than the advance part limit past the last listed part. Once the
// playlist is closed, everything not too far is ready: nothing more
// will come.
func (p *Playlist) Ready(msn media.Seq, part int) (bool, error) {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	next := p.nextLocked()
	if msn > next+1 {
		return false, fmt.Errorf("_HLS_msn %d: the last segment listed is %d: %w", msn, int64(next)-1, ErrTooFar)
	}
	if p.pub.closed {
		return true, nil // nothing more will come: answer at once
	}
	if part < 0 {
		return msn < next, nil
	}
	if msn < next {
		n := len(p.partsOfLocked(msn))
		if n == 0 || part < n {
			return true, nil
		}
		msn, part = msn+1, 0
	}
	listed := len(p.partsOfLocked(next))
	if p.pub.closed {
		listed = 0
	}
	if msn == next && part < listed {
		return true, nil
	}
	ahead := part - listed + 1
	if msn > next {
		ahead = part + 1
	}
	if ahead > p.advancePartLimit() {
		return false, fmt.Errorf("_HLS_part %d of segment %d: the last part listed is %d: %w", part, msn, listed-1, ErrTooFar)
	}
	return false, nil
}

// PartStatus says whether a part can be served.
type PartStatus int

// The statuses of a part.
const (
	// PartGone is for a part not in memory and never to come: of a
	// segment whose parts were dropped, or past the parts of a finished
	// segment.
	PartGone PartStatus = iota
	// PartHere is for a part in memory.
	PartHere
	// PartComing is for the next part to come (the preload hint) and the
	// few after it: wait on Changed.
	PartComing
)

// Part returns part index of segment seq if it is in memory, or whether
// it is still to come.
func (p *Playlist) Part(seq media.Seq, index int) (media.Part, PartStatus) {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	for _, part := range p.parts.parts {
		if part.Seq == seq && part.Index == index {
			return part, PartHere
		}
	}
	if p.pub.closed || seq < p.nextLocked() {
		return media.Part{}, PartGone
	}
	hint := p.hintLocked()
	switch {
	case seq == hint.seq && index >= hint.index && index < hint.index+p.advancePartLimit():
		return media.Part{}, PartComing
	case seq == hint.seq+1 && index < p.advancePartLimit():
		return media.Part{}, PartComing
	}
	return media.Part{}, PartGone
}
