package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// checker decodes segments with ffprobe, remembering what it decoded.
type checker struct {
	decoded map[[sha256.Size]byte]string // by content: "" when whole, else why not
}

// check reads the folder's playlist (grafov/m3u8) and checks every
// segment it lists: there, the same bytes as served over HTTP if it was
// (served holds their digests by name), and decoding with ffprobe. seen
// holds the sequence numbers listed over HTTP before the kill.
func (c *checker) check(dir string, seen map[uint64]bool, served map[string][sha256.Size]byte) (folder, error) {
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
		if why := c.segment(filepath.Join(dir, s.URI), s.Duration, served); why != "" {
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

// segment returns "" if the segment at path is whole, or else why not.
func (c *checker) segment(path string, listed time.Duration, served map[string][sha256.Size]byte) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "missing: " + err.Error()
	}
	sum := sha256.Sum256(b)
	if want, ok := served[filepath.Base(path)]; ok && want != sum {
		return "not the bytes served over HTTP"
	}
	if why, ok := c.decoded[sum]; ok {
		return why
	}
	why := probe(path, listed)
	c.decoded[sum] = why
	return why
}

// probe decodes every video frame of path with ffprobe, and returns why
// it is not whole: an error, no frame, or frames past its listed duration.
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
	if len(pts) == 0 {
		return "no frame decoded"
	}
	// EXTINF has three decimals.
	if span := pts[len(pts)-1] - pts[0]; span > listed.Seconds()+0.0005 {
		return fmt.Sprintf("frames over %.3f s, listed as %.3f s", span, listed.Seconds())
	}
	return ""
}
