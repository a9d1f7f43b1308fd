package playlist

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/durable"
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
	// Grace is how long a segment stays on disk after it leaves the
	// window, at least: a segment always stays for its own duration plus
	// that of the longest playlist that listed it, as RFC 8216 (section
	// 6.2.2) requires, even when that is longer. For segments of the
	// target duration that is MinGrace(Window, Target).
	Grace time.Duration
	// Target is the configured segment duration. EXT-X-TARGETDURATION is
	// this rounded up to whole seconds, or what an earlier run of the
	// stream used if that is more, and never changes while the playlist
	// lives (RFC 8216, section 6.2.1).
	Target time.Duration
	// Now reads the wall clock for deletion deadlines; nil means time.Now.
	Now func() time.Time
	// Deleted, if set, is called with each segment whose file the
	// playlist deleted, from the goroutine that writes the playlist.
	Deleted func(media.Segment)
	// Wrote, if set, is called with what each successful write put on
	// disk, from the goroutine that writes the playlist, once readers see
	// it and before the segments it retired are deleted. It must not
	// block: a bucket mirror (playlist/bucket) queues its uploads.
	Wrote func(Snapshot)
	// Hold, if set, reports whether a retired segment's file must stay on
	// disk even though its grace and retention are over (its upload is
	// not done). It is called with the playlist's lock held and must not
	// block. A held segment keeps its place among the retired, and those
	// after it wait with it: files are deleted oldest first, on a later
	// change once Hold lets go.
	Hold func(media.Segment) bool
	// WriteFile writes the playlist and state files; nil means
	// durable.WriteFile (temporary file, fsync, rename, fsync of the
	// folder). Tests set it to make the disk slow or failing.
	WriteFile func(path string, data []byte) error
	// Retain keeps a segment's file after it leaves the window until the
	// segment is that old (from its Start), a recording the VOD playlist
	// lists (see VOD); never shorter than the grace. Zero keeps no
	// recording: files go when their grace is over.
	Retain time.Duration
	// RetainSize bounds the bytes of the stream's segments on disk, listed
	// and retained: past it, the oldest retained segments go once their
	// grace is over, however young. Zero bounds retention by Retain only.
	RetainSize int64
	// Format is the segments' container. An fMP4 playlist lists the init
	// segment of each run in EXT-X-MAP (see runInit). A stream folder keeps
	// its format: New refuses to go on with another one.
	Format media.Format
	// Part, if positive, is the part target of Low-Latency HLS: the
	// playlist lists the parts AddPart is given (see Live). Only for fMP4.
	Part time.Duration
	// MaxDateRanges bounds the date ranges listed at once; past it, a new
	// one is not listed (ErrTooManyDateRanges). Zero means
	// DefaultMaxDateRanges.
	MaxDateRanges int
}

// DefaultMaxDateRanges is how many date ranges a playlist lists at once
// unless told otherwise: some 100 KB of tags, which every player fetches
// with every reload.
const DefaultMaxDateRanges = 500

// MinGrace returns the grace period RFC 8216 (section 6.2.2) asks of a
// playlist with this window and target segment duration, when segments
// last the target: a segment that left the playlist must stay available
// for its own duration plus that of the longest playlist that listed it,
// here EXT-X-TARGETDURATION (the target rounded up to whole seconds) plus
// the window. Segments of uneven length can need more; the playlist keeps
// each for what it needs (see Config.Grace).
func MinGrace(window, target time.Duration) time.Duration {
	return window + time.Duration(targetSeconds(target))*time.Second
}

// targetSeconds is EXT-X-TARGETDURATION for a target segment duration.
func targetSeconds(target time.Duration) int {
	return int(math.Ceil(target.Seconds()))
}

// Position is where a PTS lies in the stream.
type Position struct {
	// Seq is the media sequence number of the segment holding the PTS.
	Seq media.Seq
	// Offset runs from the segment's first PTS to the PTS.
	Offset clock.Ticks
	// Part is the index, in the segment, of the Low-Latency HLS part
	// holding the PTS; PartKnown says whether it is known: not without
	// parts (Config.Part), nor for a segment whose parts this run did not
	// list (one listed before a restart).
	Part      int
	PartKnown bool
}

// retired is a segment that left the window, waiting for its deletion.
type retired struct {
	seg      media.Segment
	deadline time.Time // its grace ends: never deleted before
	keep     time.Time // its retention ends (Config.Retain)
}

// Playlist is a live sliding-window media playlist. It is safe for
// concurrent use: the pipeline adds segments and the marker service sets
// date ranges while HTTP handlers read.
//
// Changes are made in memory, under a lock held for no disk work; a writer
// goroutine then writes the state file and the playlist file (see
// writer.go). What readers see (Encoded, Segments, Segment, Locate,
// TargetDuration, Closed) is the state as last written: a segment is
// served, listed or located only once the state file on disk lists it, so
// that after a crash no segment a client may have seen is unknown to the
// restarted server.
type Playlist struct {
	cfg Config

	mu      sync.Mutex
	segs    []media.Segment           // the window, oldest first
	longest map[media.Seq]clock.Ticks // the longest playlist that listed each of segs
	retired []retired                 // left the window, still on disk
	ranges  map[string]*rangeState
	tags    []tag       // EXT-X-DATERANGE lines, in the order written
	target  int         // EXT-X-TARGETDURATION, seconds
	discSeq uint64      // EXT-X-DISCONTINUITY-SEQUENCE
	resumed bool        // restored from disk: the next segment is discontinuous
	next    media.Seq   // follows the last segment ever listed, across restarts
	end     clock.Ticks // where the last segment ever listed ends, across restarts
	run     runInit     // the current fMP4 run's
	closed  bool

	w writer

	pubMu sync.RWMutex
	pub   view // as last written
	parts partState
}

// view is what readers see: the playlist as last written to disk.
type view struct {
	encoded []byte
	pieces  encoded         // encoded, in pieces for Low-Latency HLS
	segs    []media.Segment // the window
	retired []media.Segment // left the window, files still on disk
	target  int
	run     runInit
	closed  bool
}

// New returns a playlist over cfg.Dir, restoring the window an earlier run
// left there (see StateFile).
func New(cfg Config) (*Playlist, error) {
	if cfg.Window <= 0 || cfg.Target <= 0 || cfg.Grace < 0 || cfg.Retain < 0 || cfg.RetainSize < 0 {
		return nil, fmt.Errorf("playlist: window %s and target %s must be positive, grace %s, retain %s and retain size %d not negative",
			cfg.Window, cfg.Target, cfg.Grace, cfg.Retain, cfg.RetainSize)
	}
	if cfg.Part < 0 || (cfg.Part > 0 && cfg.Format != media.FMP4) {
		return nil, fmt.Errorf("playlist: part target %s: parts need fmp4", cfg.Part)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WriteFile == nil {
		cfg.WriteFile = func(path string, data []byte) error { return durable.WriteFile(path, data, 0o644) }
	}
	p := &Playlist{
		cfg:     cfg,
		ranges:  map[string]*rangeState{},
		longest: map[media.Seq]clock.Ticks{},
		target:  targetSeconds(cfg.Target),
	}
	p.w.init(&p.mu)
	if err := p.restore(); err != nil {
		return nil, err
	}
	p.dropRangesLocked()
	p.pub = p.viewLocked()
	return p, nil
}

// Format returns the segments' container.
func (p *Playlist) Format() media.Format { return p.cfg.Format }

// Add appends a finished segment (its file in place), slides the window,
// and queues the files of segments whose grace period is over for
// deletion. It does not wait for the disk: the writer goroutine writes the
// state and the playlist, then publishes them (see Playlist). Add returns
// an error for a segment it refuses (one that does not follow the last, or
// comes after Close), for one it lists though it exceeds
// EXT-X-TARGETDURATION, and for a write or deletion that failed since the
// last Add.
func (p *Playlist) Add(seg media.Segment) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("playlist: add after close")
	}
	if seg.Format != p.cfg.Format {
		return fmt.Errorf("playlist: segment %d is %s in a %s playlist", seg.Seq, seg.Format, p.cfg.Format)
	}
	if n := len(p.segs); n > 0 && seg.Seq != p.segs[n-1].Seq+1 {
		return fmt.Errorf("playlist: segment %d does not follow %d", seg.Seq, p.segs[n-1].Seq)
	}
	var errs []error
	if p.resumed {
		seg.Discontinuity, p.resumed = true, false
	}
	p.segs = append(p.segs, seg)
	p.run = runInit{first: seg.Init, set: true}
	p.next = seg.Seq + 1
	p.end = seg.FirstPTS + seg.Duration
	if ms := extinfMillis(seg.Duration); (ms+500)/1000 > int64(p.target) {
		// RFC 8216 wants every EXTINF, rounded to the nearest second, within
		// EXT-X-TARGETDURATION (section 4.3.3.1), and the target never to
		// change (section 6.2.1). Raising it would break the second rule;
		// the segment is listed anyway, and this error says it breaks the
		// first: the muxer must cut segments within the target.
		errs = append(errs, fmt.Errorf("playlist: segment %d lasts %s s, more than EXT-X-TARGETDURATION %d s (RFC 8216, section 4.3.3.1)",
			seg.Seq, formatMillis(ms), p.target))
	}
	now := p.cfg.Now()
	p.slideLocked(now)
	p.expireLocked(now)
	p.dropRangesLocked()
	p.changedLocked(true)
	if err := p.w.takeErr(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// slideLocked retires the oldest segments for as long as the rest still
// span the window. A retired segment's file is deleted once it has been
// out of the playlist for the grace period, and never before its own
// duration plus that of the longest playlist that listed it has passed
// (RFC 8216, section 6.2.2).
func (p *Playlist) slideLocked(now time.Time) {
	var total clock.Ticks
	for _, s := range p.segs {
		total += s.Duration
	}
	window := clock.FromDuration(p.cfg.Window)
	for len(p.segs) > 1 && total-p.segs[0].Duration >= window {
		s := p.segs[0]
		total -= s.Duration
		if s.Discontinuity {
			p.discSeq++ // RFC 8216 4.3.3.3: count the tags that left
		}
		needed := (s.Duration + p.longest[s.Seq]).Duration()
		p.retired = append(p.retired, p.retire(s, now.Add(max(p.cfg.Grace, needed))))
		delete(p.longest, s.Seq)
		p.segs = p.segs[1:]
	}
	for _, s := range p.segs {
		p.longest[s.Seq] = max(p.longest[s.Seq], total)
	}
}

// retire returns s, out of the window, to be kept until its grace ends at
// deadline, and for as long as Config.Retain asks.
func (p *Playlist) retire(s media.Segment, deadline time.Time) retired {
	r := retired{seg: s, deadline: deadline, keep: deadline}
	if p.cfg.Retain > 0 {
		r.keep = later(deadline, s.Start.Add(p.cfg.Retain))
	}
	return r
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// expireLocked hands the retired segments whose grace is over and that
// retention no longer keeps (too old, or too many bytes on disk) to the
// writer, oldest first, which deletes their files once a playlist and
// state without them are on disk.
func (p *Playlist) expireLocked(now time.Time) {
	var size int64
	for _, s := range p.segs {
		size += s.Size
	}
	for _, r := range p.retired {
		size += r.seg.Size
	}
	over := func() bool { return p.cfg.RetainSize > 0 && size > p.cfg.RetainSize }
	i := 0
	for ; i < len(p.retired); i++ {
		r := p.retired[i]
		if now.Before(r.deadline) || (now.Before(r.keep) && !over()) || (p.cfg.Hold != nil && p.cfg.Hold(r.seg)) {
			break
		}
		p.w.doomed = append(p.w.doomed, r.seg)
		size -= r.seg.Size
	}
	p.retired = p.retired[i:]
}

// Close marks the playlist ended (EXT-X-ENDLIST) and waits until it is
// written. The segments in the window stay on disk, so the recording stays
// playable. Date ranges may still be set after Close (a marker whose event
// showed until the end gets its duration then); their tags follow
// EXT-X-ENDLIST, which RFC 8216 lets stand anywhere in the playlist.
func (p *Playlist) Close() error {
	p.mu.Lock()
	p.closed = true
	p.changedLocked(true)
	p.mu.Unlock()
	return p.Flush()
}

// Encoded returns the playlist as last written. It never waits for the
// disk.
func (p *Playlist) Encoded() []byte {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return p.pub.encoded
}

// Segment returns the segment with sequence number seq if it is listed, or
// has left the window and its file is still on disk (within its grace
// period).
func (p *Playlist) Segment(seq media.Seq) (media.Segment, bool) {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	for _, list := range [][]media.Segment{p.pub.segs, p.pub.retired} {
		for _, s := range list {
			if s.Seq == seq {
				return s, true
			}
		}
	}
	return media.Segment{}, false
}

// SegmentAt returns the segment on disk that holds PTS pts: a listed
// one, or one that left the window and is still within its grace period.
// It is where a picture of any frame still on disk is decoded from.
func (p *Playlist) SegmentAt(pts clock.Ticks) (media.Segment, bool) {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	for _, list := range [][]media.Segment{p.pub.segs, p.pub.retired} {
		for _, s := range list {
			if s.Contains(pts) {
				return s, true
			}
		}
	}
	return media.Segment{}, false
}

// Segments returns a copy of the listed segments, oldest first.
func (p *Playlist) Segments() []media.Segment {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return append([]media.Segment(nil), p.pub.segs...)
}

// NextSeq returns the sequence number that follows the last segment ever
// added, even by an earlier run whose segments are gone, or 0 for a new
// playlist.
func (p *Playlist) NextSeq() media.Seq {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// End returns the PTS where the last segment ever added ends, across
// restarts (as the state file on disk records it); 0 for a new stream.
// An earlier run's frames all come before it.
func (p *Playlist) End() clock.Ticks {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.end
}

// TargetDuration returns EXT-X-TARGETDURATION.
func (p *Playlist) TargetDuration() time.Duration {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return time.Duration(p.pub.target) * time.Second
}

// Closed reports whether the playlist has ended.
func (p *Playlist) Closed() bool {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return p.pub.closed
}

// Retained returns where pts lies among the listed segments and, with
// Config.Retain, those retained past the window. Without retention it is
// Locate: a segment in its grace alone is on its way out.
func (p *Playlist) Retained(pts clock.Ticks) (Position, bool) {
	if p.cfg.Retain <= 0 {
		return p.Locate(pts)
	}
	s, ok := p.SegmentAt(pts)
	if !ok {
		return p.Locate(pts) // in a listed part of the segment being written
	}
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return p.partOfLocked(Position{Seq: s.Seq, Offset: pts - s.FirstPTS}, s.FirstPTS), true
}

// Locate returns the listed segment that holds PTS pts, and the offset of
// pts from that segment's first PTS. With parts (Config.Part), a PTS in a
// listed part of the segment being written is located too, from the part
// on: the segment's first PTS is its first part's start.
func (p *Playlist) Locate(pts clock.Ticks) (Position, bool) {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	segs := p.pub.segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i].End() > pts })
	if i == len(segs) || !segs[i].Contains(pts) {
		return p.locatePendingLocked(pts)
	}
	return p.partOfLocked(Position{Seq: segs[i].Seq, Offset: pts - segs[i].FirstPTS}, segs[i].FirstPTS), true
}

// viewLocked returns what readers will see once the current state is
// written.
func (p *Playlist) viewLocked() view {
	e := p.encodeLocked()
	v := view{
		pieces:  e,
		encoded: e.bytes(version(p.cfg.Format)),
		segs:    append([]media.Segment(nil), p.segs...),
		target:  p.target,
		run:     p.run,
		closed:  p.closed,
	}
	for _, r := range p.retired {
		v.retired = append(v.retired, r.seg)
	}
	return v
}
