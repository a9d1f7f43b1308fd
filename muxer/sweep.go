package muxer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// parseSegmentFile parses the name of a segment file of any format.
func parseSegmentFile(name string) (media.Seq, bool) {
	for _, f := range media.Formats {
		if seq, ok := f.ParseSegmentName(name); ok {
			return seq, true
		}
	}
	return 0, false
}

// isMuxerTemp reports whether name is a temporary file of the muxer's: a
// segment's, init.mp4's or a run's init segment's (see tmpName).
func isMuxerTemp(name string) bool {
	if name == tmpName(media.InitName) || (strings.HasPrefix(name, ".init-") && strings.HasSuffix(name, ".mp4.tmp")) {
		return true
	}
	for _, f := range media.Formats {
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, f.Ext()+".tmp") {
			return true
		}
	}
	return false
}

// Swept is what Sweep found and did.
type Swept struct {
	// Next is one past the highest segment number found, claimed or not.
	Next media.Seq
	// Removed names the files removed, in folder order.
	Removed []string
}

// Sweep prepares a stream folder for a new run: it removes half-written
// temporary files (of segments and of an fMP4 init segment) and the segment files an earlier run left that keep does
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
		seq, isSeg := parseSegmentFile(name)
		if !isSeg && !isMuxerTemp(name) {
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
