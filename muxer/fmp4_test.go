package muxer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestFMP4ExactPTS writes fMP4 segments and has ffprobe, which shares
// nothing with the muxer but libav's demuxer, read them after the init
// segment: the track is H.264 in avc1 at 1/90000, every segment opens
// with a keyframe at its FirstPTS and holds its frames, and the frames of
// init + all segments are the generator's, PTS for PTS, none rounded.
func TestFMP4ExactPTS(t *testing.T) {
	for _, c := range casesEncoding {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runMuxer(t, runConfig{dir: dir, frames: c.frames, bframes: c.bframes, keyInterval: c.keyInterval, format: media.FMP4})
			checkFMP4Run(t, dir, r)
		})
	}
}

// casesGap are runs whose timeline breaks: frames so late that a segment
// is cut short (the next one discontinuous), and frames the source marks
// Discontinuity, as a reconnected camera's.
var casesGap = []struct {
	name   string
	late   map[int]bool // waits 1.2 s late
	breaks map[int]bool
}{
	{"late frames", map[int]bool{20: true, 75: true, 130: true}, nil},
	{"source breaks", nil, map[int]bool{20: true, 71: true}},
}

// TestFMP4ExactPTSAcrossGaps is TestFMP4ExactPTS for runs with gaps: the
// fragment after a gap starts at its own first DTS, however long the
// frame before the gap lasted. Checked to fail without frag_discont set
// again after each fragment (segment 1 read at 59998, want 167999) and
// with every sample lasting one nominal frame (segment 6 at 804001, want
// 803999).
func TestFMP4ExactPTSAcrossGaps(t *testing.T) {
	for _, c := range casesGap {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runMuxer(t, runConfig{dir: dir, frames: 180, format: media.FMP4, breaks: c.breaks,
				late: func(wait int) time.Duration {
					return map[bool]time.Duration{true: 1200 * time.Millisecond}[c.late[wait]]
				}})
			gaps := 0
			for _, seg := range r.segments {
				if seg.Discontinuity {
					gaps++
				}
			}
			if gaps == 0 {
				t.Fatal("no segment is discontinuous: the run has no gap")
			}
			checkFMP4Run(t, dir, r)
		})
	}
}

// checkFMP4Run reads the fMP4 run r left in dir back with ffprobe (see
// TestFMP4ExactPTS).
func checkFMP4Run(t *testing.T, dir string, r run) {
	t.Helper()
	if len(r.segments) < 5 {
		t.Fatalf("%d segments, want at least 5", len(r.segments))
	}
	init, err := os.ReadFile(filepath.Join(dir, media.InitName))
	if err != nil {
		t.Fatal(err)
	}
	for _, box := range []string{"ftyp", "moov", "mvex", "avc1", "avcC"} {
		if !bytes.Contains(init, []byte(box)) {
			t.Errorf("init segment has no %s box", box)
		}
	}
	all := slices.Clone(init)
	for i, seg := range r.segments {
		if seg.Format != media.FMP4 || filepath.Base(seg.Path) != media.FMP4.SegmentName(seg.Seq) {
			t.Fatalf("segment %d: format %v at %s", i, seg.Format, seg.Path)
		}
		data, err := os.ReadFile(seg.Path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != seg.Size || !bytes.Equal(data[4:8], []byte("moof")) {
			t.Fatalf("segment %d: %d bytes starting %q, Size says %d: want a moof first", i, len(data), data[4:8], seg.Size)
		}
		frames := probeFrames(t, append(slices.Clone(init), data...))
		if len(frames) != seg.Frames || !frames[0].Key || frames[0].PTS != seg.FirstPTS {
			t.Fatalf("segment %d: %d frames, first %+v; want %d frames from a keyframe at %d",
				i, len(frames), frames[0], seg.Frames, seg.FirstPTS)
		}
		all = append(all, data...)
	}
	var got []clock.Ticks
	for _, f := range probeFrames(t, all) {
		got = append(got, f.PTS)
	}
	if !slices.Equal(got, r.pts) {
		t.Fatalf("PTS read back differ from the generator's:\n got %v\nwant %v", got, r.pts)
	}
}

// probedFrame is a frame as ffprobe reads it.
type probedFrame struct {
	PTS clock.Ticks
	Key bool
}

// probeFrames has ffprobe decode the MP4 data and returns its video
// frames in presentation order, after checking the stream is H.264 in
// avc1 with a 1/90000 time base.
func probeFrames(t *testing.T, data []byte) []probedFrame {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe.mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v", "-show_frames", "-show_streams",
		"-show_entries", "frame=pts,key_frame:stream=codec_name,codec_tag_string,time_base", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var probe struct {
		Streams []struct {
			Codec    string `json:"codec_name"`
			Tag      string `json:"codec_tag_string"`
			TimeBase string `json:"time_base"`
		} `json:"streams"`
		Frames []struct {
			PTS int64 `json:"pts"`
			Key int   `json:"key_frame"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}
	if len(probe.Streams) != 1 || probe.Streams[0].Codec != "h264" || probe.Streams[0].Tag != "avc1" || probe.Streams[0].TimeBase != "1/90000" {
		t.Fatalf("ffprobe: streams %+v, want one h264 avc1 at 1/90000", probe.Streams)
	}
	frames := make([]probedFrame, len(probe.Frames))
	for i, f := range probe.Frames {
		frames[i] = probedFrame{PTS: clock.Ticks(f.PTS), Key: f.Key == 1}
	}
	slices.SortFunc(frames, func(a, b probedFrame) int { return int(a.PTS - b.PTS) })
	return frames
}

// TestFFprobeReadsLiveFMP4 has ffprobe play an fMP4 stream live over HTTP
// (see playLive), init.mp4 then segment after segment as the playlist
// grows: it logs nothing at -v warning, and the frames it decodes are the
// generator's, PTS for PTS. Checked to fail with each sample lasting one
// nominal frame instead of until the next packet, without frag_discont
// re-armed after each fragment (the PTS drift from the second segment).
func TestFFprobeReadsLiveFMP4(t *testing.T) {
	const segments = 8 // at 1 s each
	var stdout bytes.Buffer
	r, stderr := playLive(t, media.FMP4, segments, func(ctx context.Context, url string) *exec.Cmd {
		ffprobe, err := exec.LookPath("ffprobe")
		if err != nil {
			t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
		}
		cmd := exec.CommandContext(ctx, ffprobe, "-v", "warning", "-live_start_index", "0", "-select_streams", "v",
			"-show_entries", "frame=pts", "-of", "csv=p=0", url)
		cmd.Stdout = &stdout
		return cmd
	})
	// ffmpeg's HLS demuxer (5.1, hls.c) frees a live playlist's init
	// sections at each reload and compares them by pointer, so it feeds
	// the same init.mp4 into its mp4 demuxer again at the next segment,
	// which says so: that line is the client's doing, any other fails.
	checkSilent(t, bytes.Join(slices.DeleteFunc(bytes.Split(stderr, []byte("\n")), func(l []byte) bool {
		return bytes.HasSuffix(l, []byte("] Found duplicated MOOV Atom. Skipped it"))
	}), []byte("\n")))
	var got []clock.Ticks
	for _, line := range strings.Fields(stdout.String()) {
		v, err := strconv.ParseInt(strings.TrimSuffix(line, ","), 10, 64)
		if err != nil {
			t.Fatalf("ffprobe: pts %q: %v", line, err)
		}
		got = append(got, clock.Ticks(v))
	}
	if !slices.Equal(got, r.pts) {
		t.Fatalf("ffprobe read %d frames live\n%v\nwant the generator's %d\n%v", len(got), got, len(r.pts), r.pts)
	}
}
