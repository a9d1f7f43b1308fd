package playlist

import (
	"bytes"
	"strconv"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// VOD returns an RFC 8216 VOD playlist (EXT-X-PLAYLIST-TYPE:VOD,
// EXT-X-ENDLIST) of the segments on disk, retained or listed, that overlap
// the PTS range from to to, with the given date ranges before the first
// segment (and an fMP4 stream's EXT-X-MAP). Every segment carries its EXT-X-PROGRAM-DATE-TIME, and
// EXT-X-DISCONTINUITY marks where a run changed (a restart) or a segment
// is missing between two. It returns false when no segment overlaps.
func (p *Playlist) VOD(from, to clock.Ticks, ranges []DateRange) ([]byte, bool) {
	p.pubMu.RLock()
	var segs []media.Segment
	for _, list := range [][]media.Segment{p.pub.retired, p.pub.segs} {
		for _, s := range list {
			if s.End() > from && s.FirstPTS <= to {
				segs = append(segs, s)
			}
		}
	}
	target, run := p.pub.target, p.pub.run
	p.pubMu.RUnlock()
	if len(segs) == 0 {
		return nil, false
	}
	for _, s := range segs {
		// EXTINF rounded to the nearest second is at most the target
		// (RFC 8216, section 4.3.3.1), even for a segment cut longer.
		target = max(target, int((extinfMillis(s.Duration)+500)/1000))
	}
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:" + strconv.Itoa(version(p.cfg.Format)) + "\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(uint64(segs[0].Seq), 10) + "\n")
	b.WriteString("#EXT-X-TARGETDURATION:" + strconv.Itoa(target) + "\n")
	for _, r := range ranges {
		r.encode(&b)
		b.WriteByte('\n')
	}
	writeMap(&b, p.cfg.Format, run.firstMapURI(segs))
	for i, s := range segs {
		if i > 0 && (s.Discontinuity || s.Seq != segs[i-1].Seq+1) {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if i > 0 && s.Init != segs[i-1].Init {
			writeMap(&b, p.cfg.Format, run.uri(s))
		}
		b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + formatPDT(s.Start) + "\n")
		b.WriteString("#EXTINF:" + formatMillis(extinfMillis(s.Duration)) + ",\n")
		b.WriteString(s.Name() + "\n")
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.Bytes(), true
}
