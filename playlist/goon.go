package playlist

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// GoOn makes the stream folder dir go on from a playlist another node
// published: its next segment numbered next, marked EXT-X-DISCONTINUITY,
// after discSeq discontinuities, with EXT-X-TARGETDURATION at least
// target seconds. It rewrites the state file (see StateFile) for New to
// restore, listing none of the folder's segments: the other node's
// segments are not here, and this folder's own are older than what it
// published. A folder whose state already numbers past next (this node
// published last) is left as it is; GoOn reports whether it changed it.
func GoOn(dir string, format media.Format, next media.Seq, discSeq uint64, target int) (bool, error) {
	path := filepath.Join(dir, StateFile)
	var st state
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &st); err != nil {
			return false, fmt.Errorf("playlist: go on: %s: %w", path, err)
		}
		last := st.NextSeq
		if n := len(st.Segments); n > 0 {
			last = max(last, st.Segments[n-1].Seq+1)
		}
		if last >= next {
			return false, nil
		}
	case !os.IsNotExist(err):
		return false, fmt.Errorf("playlist: go on: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("playlist: go on: %w", err)
	}
	b, err = json.Marshal(state{Format: format, DiscontinuitySeq: discSeq, TargetDuration: max(target, st.TargetDuration), NextSeq: next, EndPTS: st.EndPTS})
	if err != nil {
		return false, fmt.Errorf("playlist: go on: %w", err)
	}
	if err := durable.WriteFile(path, b, 0o644); err != nil {
		return false, fmt.Errorf("playlist: go on: %w", err)
	}
	return true, nil
}
