package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// h264File makes a 4 s, 25 fps H.264 file with B-frames and an IDR every
// 2 s.
func h264File(t *testing.T) string {
	return makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4",
		"-c:v", "libx264", "-bf", "2", "-g", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p", "in.mp4")
}

// TestServeCodecCopyRefused refuses, with exit 2 and one line naming the
// flag, what --codec copy cannot do: an input that is not a file of
// H.264, a detector, encoder settings.
func TestServeCodecCopyRefused(t *testing.T) {
	in := h264File(t)
	hevc := makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1", "-c:v", "libx265", "-pix_fmt", "yuv420p", "hevc.mp4")
	for _, c := range []struct {
		name  string
		args  []string
		names string
	}{
		{"unknown codec", []string{"--codec", "vp9", "--input", in}, "--codec"},
		{"the checkerboard", []string{"--codec", "copy"}, "--codec copy: --input checkerboard"},
		{"raw frames", []string{"--codec", "copy", "--input", "-"}, "--codec copy: --input -"},
		{"a detector", []string{"--codec", "copy", "--input", in, "--detect", "mint"}, "--codec copy: --detect mint"},
		{"a size", []string{"--codec", "copy", "--input", in, "--size", "640x360"}, "--size"},
		{"a preset", []string{"--codec", "copy", "--input", in, "--preset", "fast"}, "--preset"},
		{"HEVC", []string{"--codec", "copy", "--input", hevc}, "--codec copy: input video is hevc; only H.264 can be copied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			args := append([]string{"serve", "--addr", freeAddr(t), "--data", data}, c.args...)
			checkUsageError(t, runCLI(t, t.TempDir(), args...), c.names)
			if entries, _ := os.ReadDir(data); len(entries) > 0 {
				t.Errorf("a refused command line wrote %d entries into --data", len(entries))
			}
		})
	}
}

// TestServeCodecCopy streams a file with 2 s GOPs through the real binary
// with --codec copy --segment 1s: the playlist's EXT-X-TARGETDURATION is
// 2, the segments decode to the file's 100 pictures (the same pictures,
// by the ffmpeg CLI's framemd5) 3600 ticks apart,
// and a marker posted at one picture's PTS names the segment and offset
// where decoding found it.
func TestServeCodecCopy(t *testing.T) {
	in := h264File(t)
	data := t.TempDir()
	addr := freeAddr(t)
	// Not startServer: its flags set the encoder, which copy refuses.
	s := startChild(t, nil, addr, []string{cliBinary(t), "serve", "--addr", addr, "--data", data,
		"--input", in, "--codec", "copy", "--segment", "1s", "--fps", "25"})
	pl := endedPlaylist(t, s, data)
	b, err := os.ReadFile(filepath.Join(data, "demo", "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\n#EXT-X-TARGETDURATION:2\n") {
		t.Errorf("the playlist of 2 s GOPs cut with --segment 1s has no EXT-X-TARGETDURATION:2:\n%s", b)
	}
	var ts []byte
	for _, seg := range segments(pl) {
		b, err := os.ReadFile(filepath.Join(data, "demo", seg.URI))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, b...)
	}
	all := filepath.Join(t.TempDir(), "all.ts")
	if err := os.WriteFile(all, ts, 0o644); err != nil {
		t.Fatal(err)
	}
	if src, out := pipelinetest.FrameMD5s(t, in), pipelinetest.FrameMD5s(t, all); !slices.Equal(src, out) {
		t.Errorf("the segments decode to %d pictures unlike the file's %d: not a copy", len(out), len(src))
	}
	got := decodedPTS(t, pl, data)
	var pts []clock.Ticks
	for _, seg := range segments(pl) {
		pts = append(pts, got[seg.SeqId]...)
	}
	if len(pts) != 100 {
		t.Fatalf("the segments decode to %d pictures, want the file's 100", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i]-pts[i-1] != 3600 {
			t.Fatalf("picture %d: PTS %d after %d, want a step of 3600", i, pts[i], pts[i-1])
		}
	}

	target := pts[61] // mid-GOP: not where a segment starts
	if code, _ := s.postMarker("event", int64(target)); code != 201 {
		t.Fatalf("post a marker at PTS %d: %d", target, code)
	}
	var wantSeq uint64
	var wantOffset float64
	for seq, pts := range got {
		if slices.Contains(pts, target) {
			wantSeq, wantOffset = seq, float64(target-pts[0])/clock.Hz
		}
	}
	ms := s.markers(t)
	if len(ms) != 1 || ms[0].Sequence == nil || ms[0].Offset == nil {
		t.Fatalf("markers %+v, want one at PTS %d with its place", ms, target)
	}
	if *ms[0].Sequence != wantSeq || math.Abs(*ms[0].Offset-wantOffset) > 1e-6 {
		t.Errorf("marker at PTS %d is in segment %d at %.6f s, want %d at %.6f s (the decoded picture's)",
			target, *ms[0].Sequence, *ms[0].Offset, wantSeq, wantOffset)
	}
	s.stop(t, syscall.SIGTERM)
}
