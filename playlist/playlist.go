package playlist

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// FileName is the playlist's file name in the stream folder.
const FileName = "index.m3u8"

// Config configures a Playlist.
type Config struct {
	// Dir is the stream folder: the playlist is written there, and retired
	// segment files are deleted from there.
	Dir string
	// Window is the least duration the playlist spans once that much has
	// been recorded: the DVR window.
	Window time.Duration
	// Grace is how long a segment stays on disk after it leaves the window.
	Grace time.Duration
	// Target is the configured segment duration. EXT-X-TARGETDURATION is
	// this rounded up, or more if a longer segment ever had to be listed.
	Target time.Duration
	// Now reads the wall clock for deletion deadlines; nil means time.Now.
	Now func() time.Time
	// Deleted, if set, is called with each segment whose file the
	// playlist deleted, under the playlist's lock: it must not call back.
	Deleted func(media.Segment)
}

// Position is where a PTS lies in the stream.
type Position struct {
	// Seq is the media sequence number of the segment holding the PTS.
	Seq media.Seq
	// Offset runs from the segment's first PTS to the PTS.
	Offset clock.Ticks
}

// retired is a segment that left the window, waiting for its deletion.
type retired struct {
	seg      media.Segment
	deadline time.Time
}

// Playlist is a live sliding-window media playlist. It is safe for
// concurrent use: the pipeline adds segments while HTTP handlers read.
type Playlist struct {
	cfg Config

	mu      sync.RWMutex
	segs    []media.Segment // the window, oldest first
	retired []retired       // left the window, still on disk
	ranges  map[string]DateRange
	target  int       // EXT-X-TARGETDURATION, seconds
	discSeq uint64    // EXT-X-DISCONTINUITY-SEQUENCE
	resumed bool      // restored from disk: the next segment is discontinuous
	next    media.Seq // follows the last segment ever listed, across restarts
	closed  bool
	encoded []byte
}

// New returns an empty playlist.
func New(cfg Config) (*Playlist, error) {
	if cfg.Window <= 0 || cfg.Target <= 0 || cfg.Grace < 0 {
		return nil, fmt.Errorf("playlist: window %s and target %s must be positive, grace %s not negative", cfg.Window, cfg.Target, cfg.Grace)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Playlist{
		cfg:    cfg,
		ranges: map[string]DateRange{},
		target: int(math.Ceil(cfg.Target.Seconds())),
	}
	if err := p.restore(); err != nil {
		return nil, err
	}
	p.encoded = p.encodeLocked()
	return p, nil
}

// Add appends a finished segment, slides the window, deletes segments whose
// grace period is over, and writes the playlist file. The segment is listed
// (and served) even if the playlist file cannot be written; the error says so.
func (p *Playlist) Add(seg media.Segment) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("playlist: add after close")
	}
	if n := len(p.segs); n > 0 && seg.Seq != p.segs[n-1].Seq+1 {
		return fmt.Errorf("playlist: segment %d does not follow %d", seg.Seq, p.segs[n-1].Seq)
	}
	if p.resumed {
		seg.Discontinuity, p.resumed = true, false
	}
	p.segs = append(p.segs, seg)
	p.next = seg.Seq + 1
	if t := int(math.Round(extinf(seg.Duration))); t > p.target {
		p.target = t // RFC 8216 4.3.3.1: every EXTINF, rounded, must fit
	}
	now := p.cfg.Now()
	p.slide(now)
	errs := p.deleteExpired(now)
	p.dropOldRanges()
	if err := p.publishLocked(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// slide retires the oldest segments for as long as the rest still span the
// window.
func (p *Playlist) slide(now time.Time) {
	var total clock.Ticks
	for _, s := range p.segs {
		total += s.Duration
	}
	window := clock.FromDuration(p.cfg.Window)
	for len(p.segs) > 1 && total-p.segs[0].Duration >= window {
		total -= p.segs[0].Duration
		if p.segs[0].Discontinuity {
			p.discSeq++ // RFC 8216 4.3.3.3: count the tags that left
		}
		p.retired = append(p.retired, retired{seg: p.segs[0], deadline: now.Add(p.cfg.Grace)})
		p.segs = p.segs[1:]
	}
}

// deleteExpired removes the files of retired segments whose grace is over.
func (p *Playlist) deleteExpired(now time.Time) []error {
	var errs []error
	i := 0
	for ; i < len(p.retired) && !now.Before(p.retired[i].deadline); i++ {
		err := os.Remove(p.retired[i].seg.Path)
		if err == nil && p.cfg.Deleted != nil {
			p.cfg.Deleted(p.retired[i].seg)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("playlist: delete segment %d: %w", p.retired[i].seg.Seq, err))
		}
	}
	p.retired = p.retired[i:]
	return errs
}

// dropOldRanges forgets date ranges that start before the window.
func (p *Playlist) dropOldRanges() {
	if len(p.segs) == 0 {
		return
	}
	first := p.segs[0].Start
	for id, r := range p.ranges {
		if r.Start.Before(first) {
			delete(p.ranges, id)
		}
	}
}

// Close marks the playlist ended (EXT-X-ENDLIST) and writes it. The
// segments in the window stay on disk, so the recording stays playable.
func (p *Playlist) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.publishLocked()
}

// SetDateRange adds or replaces date ranges, and writes the playlist once.
// A range is listed while its start is inside the window, before the
// segment its start falls in.
func (p *Playlist) SetDateRange(rs ...DateRange) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rs {
		p.ranges[r.ID] = r
	}
	return p.publishLocked()
}

// Encoded returns the playlist as last written.
func (p *Playlist) Encoded() []byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.encoded
}

// Segment returns the segment with sequence number seq if its file is still
// on disk: in the window or within its grace period.
func (p *Playlist) Segment(seq media.Seq) (media.Segment, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, s := range p.segs {
		if s.Seq == seq {
			return s, true
		}
	}
	for _, r := range p.retired {
		if r.seg.Seq == seq {
			return r.seg, true
		}
	}
	return media.Segment{}, false
}

// Segments returns a copy of the segments in the window, oldest first.
func (p *Playlist) Segments() []media.Segment {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]media.Segment(nil), p.segs...)
}

// NextSeq returns the sequence number that follows the last segment ever
// listed, even by an earlier run whose segments are gone, or 0 for a new
// playlist.
func (p *Playlist) NextSeq() media.Seq {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.next
}

// TargetDuration returns EXT-X-TARGETDURATION.
func (p *Playlist) TargetDuration() time.Duration {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return time.Duration(p.target) * time.Second
}

// Closed reports whether the playlist has ended.
func (p *Playlist) Closed() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.closed
}

// Locate returns the segment in the window that holds PTS pts, and the
// offset of pts from that segment's first PTS.
func (p *Playlist) Locate(pts clock.Ticks) (Position, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].End() > pts })
	if i == len(p.segs) || !p.segs[i].Contains(pts) {
		return Position{}, false
	}
	return Position{Seq: p.segs[i].Seq, Offset: pts - p.segs[i].FirstPTS}, true
}

// publishLocked saves the state, then encodes the playlist and writes it
// atomically: a temporary file renamed over the old one, so readers of the
// file never see it half written.
func (p *Playlist) publishLocked() error {
	p.encoded = p.encodeLocked()
	if err := p.saveLocked(); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(p.cfg.Dir, FileName), p.encoded)
}

// encodeLocked renders the window with grafov/m3u8.
func (p *Playlist) encodeLocked() []byte {
	pl, err := m3u8.NewMediaPlaylist(0, uint(len(p.segs)+1))
	if err != nil {
		panic(err) // only for a capacity of zero, which len+1 never is
	}
	if len(p.segs) > 0 {
		pl.SeqNo = uint64(p.segs[0].Seq)
	}
	byStart := p.rangesBySegmentLocked()
	for _, s := range p.segs {
		seg := &m3u8.MediaSegment{
			SeqId:           uint64(s.Seq),
			URI:             s.Name(),
			Duration:        extinf(s.Duration),
			ProgramDateTime: s.Start.UTC(),
			Discontinuity:   s.Discontinuity,
		}
		if rs := byStart[s.Seq]; len(rs) > 0 {
			seg.Custom = map[string]m3u8.CustomTag{rs.TagName(): rs}
		}
		if err := pl.AppendSegment(seg); err != nil {
			panic(err) // only when full, and capacity is len+1
		}
	}
	// grafov raises TargetDuration to each appended EXTINF rounded up; RFC
	// 8216 only needs the rounded-to-nearest EXTINF to fit, and the value
	// must not change while the stream runs, so it is set after appending.
	pl.TargetDuration = float64(p.target)
	pl.DiscontinuitySeq = p.discSeq
	pl.Closed = p.closed
	return append([]byte(nil), pl.Encode().Bytes()...)
}

// extinf is a segment's EXTINF: its duration in seconds to the
// millisecond, as grafov writes it. RFC 8216 4.3.3.1 rounds the written
// value against the target, so the target is raised from this one.
// grafov formats EXTINF through a float32 ('f', 3, 32): exact to the
// millisecond below 2^14 s, but a longer segment (a source stalled for
// hours) can be written a few ms off, and 32768.499 s as 32768.500, which
// rounds up. So the value is taken as written.
func extinf(d clock.Ticks) float64 {
	ms := math.Round(d.Seconds()*1000) / 1000
	written, _ := strconv.ParseFloat(strconv.FormatFloat(ms, 'f', 3, 32), 64)
	return written
}

// rangesBySegmentLocked groups the date ranges by the segment their start
// falls in, each group sorted by start.
func (p *Playlist) rangesBySegmentLocked() map[media.Seq]dateRanges {
	out := map[media.Seq]dateRanges{}
	for _, r := range p.ranges {
		for _, s := range p.segs {
			// The next segment's start, exactly: Start is the timeline's
			// time of FirstPTS, and durations rounded one by one would
			// drift from it by a nanosecond per segment.
			end := s.Start.Add(s.End().Duration() - s.FirstPTS.Duration())
			if !r.Start.Before(s.Start) && r.Start.Before(end) {
				out[s.Seq] = append(out[s.Seq], r)
				break
			}
		}
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool {
			return rs[i].Start.Before(rs[j].Start) || rs[i].Start.Equal(rs[j].Start) && rs[i].ID < rs[j].ID
		})
	}
	return out
}
