package playlist

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// StateFile is the file, next to the playlist, that keeps the window's
// segments exactly (PTS in ticks, not EXTINF's milliseconds), so that a
// restarted server resumes the same playlist.
const StateFile = "state.json"

// state is what StateFile holds.
type state struct {
	DiscontinuitySeq uint64          `json:"discontinuity_sequence"`
	TargetDuration   int             `json:"target_duration"`
	Segments         []media.Segment `json:"segments"`
	// NextSeq keeps the numbering when no listed segment is left.
	NextSeq media.Seq `json:"next_seq,omitempty"`
}

// saveLocked writes the state atomically.
func (p *Playlist) saveLocked() error {
	b, err := json.Marshal(state{DiscontinuitySeq: p.discSeq, TargetDuration: p.target, Segments: p.segs, NextSeq: p.next})
	if err != nil {
		return fmt.Errorf("playlist: state: %w", err)
	}
	return writeAtomic(filepath.Join(p.cfg.Dir, StateFile), b)
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
	if n := len(st.Segments); n > 0 {
		p.next = max(p.next, st.Segments[n-1].Seq+1) // a state written before next_seq
	}
	p.target = max(p.target, st.TargetDuration)
	return nil
}

// writeAtomic writes a file through a temporary one renamed over it, so no
// reader, and no crash, ever leaves it half written.
func writeAtomic(path string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("playlist: write: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("playlist: write: %w", err)
	}
	return nil
}
