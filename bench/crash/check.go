package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// folder is what a cold look at a killed server's stream folder found.
type folder struct {
	// Listed is how many segments its playlist lists.
	Listed int `json:"listed"`
	// Bad are listed segments missing, or not decoding whole.
	Bad []string `json:"bad,omitempty"`
	// Lost are segments the server had listed over HTTP before the kill,
	// newer than the first one its playlist now lists, that it no longer
	// lists.
	Lost []uint64 `json:"lost,omitempty"`
	// Ahead are segment files on disk numbered past the last one listed:
	// renamed into place, never listed.
	Ahead []string `json:"ahead,omitempty"`
	// last is the highest sequence number listed.
	last uint64
}

// fileKey identifies one version of a file: a segment checked once need
// not be decoded again while it is the same file.
type fileKey struct {
	name        string
	size, mtime int64
	ino         uint64
}

// checker decodes segments with ffprobe, remembering what it decoded.
type checker struct {
	decoded map[fileKey]string // "" when whole, else why not
}

// check reads the folder's playlist (grafov/m3u8) and decodes every
// segment it lists with ffprobe. seen holds the sequence numbers listed
// over HTTP before the kill.
func (c *checker) check(dir string, seen map[uint64]bool) (folder, error) {
	var out folder
	b, err := os.ReadFile(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		return out, err
	}
	pl, err := live.ParsePlaylist(b)
	if err != nil {
		out.Bad = append(out.Bad, "index.m3u8: "+err.Error())
		return out, nil
	}
	out.Listed = len(pl.Segments)
	listed := map[uint64]bool{}
	for _, s := range pl.Segments {
		listed[s.Seq] = true
		out.last = max(out.last, s.Seq)
		if why := c.decode(filepath.Join(dir, s.URI), s.Duration); why != "" {
			out.Bad = append(out.Bad, fmt.Sprintf("%s: %s", s.URI, why))
		}
	}
	if len(pl.Segments) > 0 {
		first := pl.Segments[0].Seq
		for seq := range seen {
			if seq >= first && !listed[seq] {
				out.Lost = append(out.Lost, seq)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out, err
	}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".ts"); ok && isSegment(e.Name()) {
			if seq, err := strconv.ParseUint(n, 10, 64); err == nil && len(pl.Segments) > 0 && seq > out.last {
				out.Ahead = append(out.Ahead, e.Name())
			}
		}
	}
	return out, nil
}

// decode returns "" if the segment at path decodes without an error and
// its frames span its listed duration to within a frame, or else why not.
func (c *checker) decode(path string, listed time.Duration) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	key := fileKey{name: path, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		key.ino = st.Ino
	}
	if why, ok := c.decoded[key]; ok {
		return why
	}
	why := probe(path, listed)
	c.decoded[key] = why
	return why
}

// probe decodes every video frame of path with ffprobe.
func probe(path string, listed time.Duration) string {
	cmd := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("ffprobe: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return "ffprobe: " + s
	}
	var pts []float64
	for _, f := range strings.Fields(stdout.String()) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(f, ","), 64)
		if err != nil {
			return fmt.Sprintf("ffprobe: frame time %q", f)
		}
		pts = append(pts, v)
	}
	if len(pts) < 2 {
		return fmt.Sprintf("%d frames decoded", len(pts))
	}
	frame := (pts[len(pts)-1] - pts[0]) / float64(len(pts)-1)
	span := pts[len(pts)-1] - pts[0] + frame
	if math.Abs(span-listed.Seconds()) > frame {
		return fmt.Sprintf("%d frames span %.3f s, listed as %.3f s", len(pts), span, listed.Seconds())
	}
	return ""
}
