package muxer_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

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
		})
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
