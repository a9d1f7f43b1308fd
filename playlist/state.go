package playlist

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// StateFile is the file, next to the playlist, that keeps the window's
// segments exactly (PTS in ticks, not EXTINF's milliseconds) and its date
// range tags as written, so that a restarted server resumes the same
// playlist, byte for byte.
const StateFile = "state.json"

// state is what StateFile holds.
type state struct {
	// Format is the segments' container; omitted for MPEG-TS, as in the
	// states written before fMP4.
	Format           media.Format    `json:"format,omitempty"`
	DiscontinuitySeq uint64          `json:"discontinuity_sequence"`
	TargetDuration   int             `json:"target_duration"`
	Segments         []media.Segment `json:"segments"`
	// NextSeq keeps the numbering when no listed segment is left.
	NextSeq media.Seq `json:"next_seq,omitempty"`
	// EndPTS keeps where the last segment ended when none is left.
	EndPTS     clock.Ticks  `json:"end_pts,omitempty"`
	DateRanges []savedRange `json:"date_ranges,omitempty"`
	// Retained are the segments that left the window and are kept on disk
	// by Config.Retain, oldest first, so that a restart keeps them.
	Retained []media.Segment `json:"retained,omitempty"`
}

// FormatError is New's refusal to go on with a stream folder recorded in
// another format.
type FormatError struct {
	Dir              string
	Recorded, Wanted media.Format
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("playlist: %s holds a stream recorded as %s, which cannot go on as %s: keep --format %s or use another --data folder",
		e.Dir, e.Recorded, e.Wanted, e.Recorded)
}

// savedRange is one EXT-X-DATERANGE tag in StateFile.
type savedRange struct {
	ID       string        `json:"id"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Open     bool          `json:"open,omitempty"`
	Label    string        `json:"label"`
	Before   media.Seq     `json:"before"`
}

// stateLocked returns the state file's content.
func (p *Playlist) stateLocked() ([]byte, error) {
	st := state{Format: p.cfg.Format, DiscontinuitySeq: p.discSeq, TargetDuration: p.target, Segments: p.segs, NextSeq: p.next, EndPTS: p.end}
	if p.cfg.Retain > 0 {
		for _, r := range p.retired {
			st.Retained = append(st.Retained, r.seg)
		}
	}
	for _, t := range p.tags {
		open := t.r.Open
		if s := p.ranges[t.r.ID]; s != nil && t.r.Duration == s.duration {
			open = s.open // the latest word on the range, kept with its last tag
		}
		st.DateRanges = append(st.DateRanges, savedRange{
			ID: t.r.ID, Start: t.r.Start, Duration: t.r.Duration, Open: open, Label: t.r.Label, Before: t.before,
		})
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("playlist: state: %w", err)
	}
	return b, nil
}

// restore loads the state an earlier run left, keeping the segments whose
// files are still there. A gap (a file gone from the middle) keeps only the
// segments after it, since listed sequence numbers must be consecutive.
func (p *Playlist) restore() error {
	b, err := os.ReadFile(filepath.Join(p.cfg.Dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("playlist: restore: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("playlist: restore %s: %w", StateFile, err)
	}
	if st.Format != p.cfg.Format {
		// One playlist cannot switch: EXT-X-MAP would apply to the MPEG-TS
		// segments after it, and cannot be taken back.
		return &FormatError{Dir: p.cfg.Dir, Recorded: st.Format, Wanted: p.cfg.Format}
	}
	var kept []media.Segment
	for i, seg := range st.Segments {
		if i > 0 && seg.Seq != st.Segments[i-1].Seq+1 {
			return fmt.Errorf("playlist: restore %s: segment %d follows %d", StateFile, seg.Seq, st.Segments[i-1].Seq)
		}
		seg.Path = filepath.Join(p.cfg.Dir, seg.Name())
		if fi, err := os.Stat(seg.Path); err != nil || fi.Size() != seg.Size {
			kept = kept[:0]
			continue
		}
		kept = append(kept, seg)
	}
	p.segs, p.discSeq, p.resumed, p.next = kept, st.DiscontinuitySeq, true, st.NextSeq
	p.restoreRetained(st.Retained)
	p.restoreRun()
	var total clock.Ticks // the state's window was served: the longest known to list these
	for _, s := range st.Segments {
		total += s.Duration
	}
	for _, s := range kept {
		p.longest[s.Seq] = total
	}
	if n := len(st.Segments); n > 0 {
		last := st.Segments[n-1]
		p.next = max(p.next, last.Seq+1)                    // a state written before next_seq
		p.end = max(st.EndPTS, last.FirstPTS+last.Duration) // or before end_pts
	} else {
		p.end = st.EndPTS
	}
	// A restart with a longer --segment raises the target: the only way
	// it changes in a stream's life.
	p.target = max(p.target, st.TargetDuration)
	for i, s := range st.DateRanges {
		if i > 0 && s.Before < st.DateRanges[i-1].Before {
			return fmt.Errorf("playlist: restore %s: date range %q is written before segment %d, after one written before %d",
				StateFile, s.ID, s.Before, st.DateRanges[i-1].Before)
		}
		r := DateRange{ID: s.ID, Start: s.Start, Duration: s.Duration, Open: s.Open, Label: s.Label}
		if rs := p.ranges[r.ID]; rs != nil {
			rs.duration, rs.open = max(rs.duration, r.Duration), r.Open
		} else {
			p.ranges[r.ID] = &rangeState{first: r, duration: r.Duration, open: r.Open}
		}
		p.tags = append(p.tags, tag{r: r, before: s.Before})
	}
	return nil
}

// restoreRetained takes back the retained segments an earlier run
// recorded whose files are still whole, each kept for a new grace (a
// client may have fetched a playlist listing it just before the restart)
// and for as long as retention asks. Without Config.Retain none is kept,
// and the folder's sweep deletes their files.
func (p *Playlist) restoreRetained(segs []media.Segment) {
	if p.cfg.Retain <= 0 {
		return
	}
	deadline := p.cfg.Now().Add(p.cfg.Grace)
	for _, seg := range segs {
		seg.Path = filepath.Join(p.cfg.Dir, seg.Name())
		if fi, err := os.Stat(seg.Path); err != nil || fi.Size() != seg.Size {
			continue
		}
		if len(p.segs) > 0 && seg.Seq >= p.segs[0].Seq {
			continue
		}
		p.retired = append(p.retired, p.retire(seg, deadline))
	}
}
