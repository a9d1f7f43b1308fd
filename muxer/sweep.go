package muxer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Sweep prepares a stream folder for a new run: it removes half-written
// temporary files and the segment files an earlier run left that keep does
// not claim (keep may be nil), and returns the sequence number to start at,
// one past the highest found, so that no sequence number (and no cached
// segment URL) is ever reused.
func Sweep(dir string, keep func(media.Seq) bool) (media.Seq, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("muxer: sweep %s: %w", dir, err)
	}
	var next media.Seq
	for _, e := range entries {
		name := e.Name()
		seq, isSeg := media.ParseSegmentName(name)
		if !isSeg && !(strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".ts.tmp")) {
			continue
		}
		if isSeg && seq >= next {
			next = seq + 1
		}
		if isSeg && keep != nil && keep(seq) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return 0, fmt.Errorf("muxer: sweep %s: %w", dir, err)
		}
	}
	return next, nil
}
