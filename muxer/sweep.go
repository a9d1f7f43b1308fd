package muxer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Swept is what Sweep found and did.
type Swept struct {
	// Next is one past the highest segment number found, claimed or not.
	Next media.Seq
	// Removed names the files removed, in folder order.
	Removed []string
}

// Sweep prepares a stream folder for a new run: it removes half-written
// temporary files and the segment files an earlier run left that keep does
// not claim (keep may be nil). A segment file the restored playlist does
// not claim was never listed, so never served (a kill between its rename
// and the playlist's save leaves one): the caller may reuse its number.
// Without a playlist to go by, Next is where numbering must go on, so that
// no cached segment URL is ever reused.
func Sweep(dir string, keep func(media.Seq) bool) (Swept, error) {
	var out Swept
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out, fmt.Errorf("muxer: sweep %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		seq, isSeg := media.ParseSegmentName(name)
		if !isSeg && !(strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".ts.tmp")) {
			continue
		}
		if isSeg && seq >= out.Next {
			out.Next = seq + 1
		}
		if isSeg && keep != nil && keep(seq) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return out, fmt.Errorf("muxer: sweep %s: %w", dir, err)
		}
		out.Removed = append(out.Removed, name)
	}
	return out, nil
}
