package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// fmp4Flags are the serve flags of the fMP4 tests: framed rgb24 frames on
// standard input, each keeping its producer's PTS.
var fmp4Flags = []string{"--input", "-", "--input-format", "framed", "--pix-fmt", "rgb24", "--format", "fmp4"}

// jitteredPTS returns n PTS after from, 3600 ticks apart give or take 600.
func jitteredPTS(seed uint64, from clock.Ticks, n int) []clock.Ticks {
	rng := rand.New(rand.NewPCG(seed, 17))
	out := make([]clock.Ticks, n)
	for i := range out {
		from += 3600 + clock.Ticks(rng.IntN(1201)-600)
		out[i] = from
	}
	return out
}

// writeFramed writes a framed picture for every PTS into w, then closes w.
func writeFramed(w *os.File, pts []clock.Ticks) {
	defer w.Close()
	var header [8]byte
	for i, p := range pts {
		binary.BigEndian.PutUint64(header[:], uint64(p))
		if _, err := w.Write(append(header[:], rawPicture(i)...)); err != nil {
			return
		}
	}
}

// TestFMP4ServeExactPTS runs `hlsmark serve --format fmp4` twice on one
// folder, each run fed jittered PTS on standard input, and reads the
// second run's playlist over HTTP with independent readers: grafov finds
// EXT-X-VERSION 6, one EXT-X-MAP (init.mp4: the runs' init segments are
// the same, so the second continues the first's) and .m4s segments
// numbered on across the restart, with a discontinuity there; ffprobe plays the playlist and
// every frame has the PTS its producer sent, tick for tick, through the
// mp4 track's 1/90000; init.mp4 and the segments have their media types;
// a frame's picture decodes from its fMP4 segment. Checked to fail with
// the init segment's EXT-X-MAP left out (grafov finds no map) and without
// frag_discont in the mp4 muxer's flags (the first tfdt is 0: ffprobe's
// PTS start from there).
func TestFMP4ServeExactPTS(t *testing.T) {
	data := t.TempDir()
	first := jitteredPTS(3, 5*clock.Hz, 60)
	s, w := startRawServer(t, data, fmp4Flags...)
	go writeFramed(w, first)
	pl := endedPlaylist(t, s, data)
	firstSegs := segments(pl)
	s.stop(t, syscall.SIGTERM)

	second := jitteredPTS(4, first[len(first)-1]+clock.Hz, 60)
	s, w = startRawServer(t, data, fmp4Flags...)
	go writeFramed(w, second)
	endedPlaylist(t, s, data)
	pl = s.mustPlaylist(t)

	segs := segments(pl)
	// Both runs have the same init segment, so the second continues the
	// first's: one EXT-X-MAP, init.mp4, as served before the restart (see
	// TestFMP4RestartKeepsRunInits for a restart with another).
	if pl.Version() != 6 || pl.Map == nil || pl.Map.URI != media.InitName ||
		len(segs) <= len(firstSegs) || segs[len(firstSegs)].Map != nil {
		t.Fatalf("playlist version %d, map %+v: want 6 and init.mp4 alone, no EXT-X-MAP at the restart", pl.Version(), pl.Map)
	}
	for i, seg := range segs {
		if seg.SeqId != segs[0].SeqId+uint64(i) || !strings.HasSuffix(seg.URI, ".m4s") {
			t.Fatalf("segment %d: %d %s, want consecutive .m4s segments", i, seg.SeqId, seg.URI)
		}
		if restart := i == len(firstSegs); seg.Discontinuity != restart {
			t.Errorf("segment %d (%s): discontinuity %v, want it only at the restart (segment %d)", i, seg.URI, seg.Discontinuity, len(firstSegs))
		}
	}
	if len(segs) <= len(firstSegs) || segs[len(firstSegs)-1].URI != firstSegs[len(firstSegs)-1].URI {
		t.Fatalf("the first run's %d segments are not followed by the second's: %d listed", len(firstSegs), len(segs))
	}

	for path, want := range map[string]string{"/streams/demo/init.mp4": "video/mp4", "/streams/demo/" + segs[0].URI: "video/iso.segment"} {
		resp, err := http.Head(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want {
			t.Errorf("HEAD %s: %d %s, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
	if code, _ := s.get("/streams/demo/" + strings.TrimSuffix(segs[0].URI, ".m4s") + ".ts"); code != http.StatusNotFound {
		t.Errorf("a .ts name in an fMP4 stream: %d, want 404", code)
	}

	got, timeBase := probeFrames(t, s.base+"/streams/demo/index.m3u8")
	want := append(slices.Clone(first), second...)
	if timeBase != "1/90000" || !slices.Equal(got, want) {
		t.Fatalf("ffprobe over HTTP: time base %s, %d frames\n%v\nwant 1/90000 and the %d sent\n%v", timeBase, len(got), got, len(want), want)
	}

	code, b := s.get("/api/streams/demo/frame.jpg?pts=" + strconv.FormatInt(int64(second[30]), 10))
	if code != http.StatusOK || len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		t.Errorf("frame.jpg of PTS %d from its fMP4 segment: %d %.80s, want a JPEG", second[30], code, b)
	}

	// A clip of fMP4 segments: from between two frames, it starts at the
	// next one and shows each sent frame up to the end, at the sent
	// spacing.
	from, to := second[10]+1, second[40]
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	code, b = s.get(fmt.Sprintf("/api/streams/demo/clip.mp4?from=%d&to=%d", from, to))
	if err := os.WriteFile(clip, b, 0o644); code != http.StatusOK || err != nil {
		t.Fatalf("clip.mp4 from %d to %d of fMP4 segments: %d %.200s (%v)", from, to, code, b, err)
	}
	got, timeBase = probeFrames(t, clip)
	var wantClip []clock.Ticks
	for _, p := range second[11:40] {
		wantClip = append(wantClip, p-second[11])
	}
	if timeBase != "1/90000" || !slices.Equal(got, wantClip) {
		t.Errorf("the clip's frames at %s:\n%v\nwant the sent frames from %d, from 0 at their spacing:\n%v", timeBase, got, second[11], wantClip)
	}
	s.stop(t, syscall.SIGTERM)
}

// probeFrames has ffprobe read the video frames of url, a file or a
// playlist (played from its first segment), and returns their PTS in
// presentation order and the stream's time base.
func probeFrames(t *testing.T, url string) ([]clock.Ticks, string) {
	t.Helper()
	out, err := exec.Command(ffprobePath(t), "-v", "error", "-select_streams", "v", "-show_frames", "-show_streams",
		"-show_entries", "frame=pts:stream=time_base", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var probe struct {
		Streams []struct {
			TimeBase string `json:"time_base"`
		} `json:"streams"`
		Frames []struct {
			PTS int64 `json:"pts"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}
	var pts []clock.Ticks
	for _, f := range probe.Frames {
		pts = append(pts, clock.Ticks(f.PTS))
	}
	var tb string
	if len(probe.Streams) > 0 {
		tb = probe.Streams[0].TimeBase
	}
	return pts, tb
}

// TestFormatRestartRefused starts serve on a folder whose state records
// one format with the other --format: it exits 2 with one line naming
// --format and both formats, and the state is untouched. Checked to fail
// with playlist.New's refusal removed (the stream starts).
func TestFormatRestartRefused(t *testing.T) {
	for _, c := range []struct{ recorded, wanted string }{{"fmp4", "ts"}, {"ts", "fmp4"}} {
		t.Run(c.wanted, func(t *testing.T) {
			data := t.TempDir()
			state := filepath.Join(data, "demo", "state.json")
			if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"format":"` + c.recorded + `","discontinuity_sequence":0,"target_duration":1,"segments":[],"next_seq":7}`)
			if err := os.WriteFile(state, body, 0o644); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, data, "serve", "--addr", unusedAddr(t), "--data", data, "--format", c.wanted)
			checkUsageError(t, r, "--format "+c.wanted)
			if !strings.Contains(r.stderr, "recorded as "+c.recorded) {
				t.Errorf("stderr %q does not name the recorded format %s", r.stderr, c.recorded)
			}
			if got, err := os.ReadFile(state); err != nil || string(got) != string(body) {
				t.Errorf("state.json after the refusal: %q (%v), want it untouched", got, err)
			}
		})
	}
}

// TestServeCodecCopyFMP4 copies a file of H.264 with B-frames into fMP4
// segments (--codec copy --format fmp4): init.mp4 and the segments,
// concatenated, decode to the file's pictures (the ffmpeg CLI's
// framemd5), and ffprobe, playing the playlist over HTTP, reads its 100
// PTS 3600 ticks apart, in presentation order though packets come in
// decode order. No sample carries an SPS or PPS, which the avcC holds.
// Checked to fail with every sample's PTS written as its DTS in the mp4
// muxer (PTS 7200 after 0), and with the packets given to it as they are
// (sample 0: NAL types [6 7 8 5]).
func TestServeCodecCopyFMP4(t *testing.T) {
	in := h264File(t)
	data := t.TempDir()
	addr := freeAddr(t)
	// Not startServer: its flags set the encoder, which copy refuses.
	s := startChild(t, nil, addr, []string{cliBinary(t), "serve", "--addr", addr, "--data", data,
		"--input", in, "--codec", "copy", "--segment", "1s", "--fps", "25", "--format", "fmp4"})
	pl := endedPlaylist(t, s, data)
	all, err := os.ReadFile(filepath.Join(data, "demo", "init.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segments(pl) {
		b, err := os.ReadFile(filepath.Join(data, "demo", seg.URI))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	joined := filepath.Join(t.TempDir(), "all.mp4")
	if err := os.WriteFile(joined, all, 0o644); err != nil {
		t.Fatal(err)
	}
	if src, out := pipelinetest.FrameMD5s(t, in), pipelinetest.FrameMD5s(t, joined); !slices.Equal(src, out) {
		t.Errorf("init + segments decode to %d pictures unlike the file's %d: not a copy", len(out), len(src))
	}
	if avcC, samples := pipelinetest.H264NALTypes(t, joined); !slices.Equal(avcC, []int{7, 8}) {
		t.Errorf("avcC parameter sets of NAL types %v, want an SPS (7) and a PPS (8)", avcC)
	} else {
		for i, types := range samples {
			if slices.Contains(types, 7) || slices.Contains(types, 8) {
				t.Fatalf("sample %d: NAL types %v, a parameter set in band (avc1 keeps them in the avcC)", i, types)
			}
		}
	}
	pts, timeBase := probeFrames(t, s.base+"/streams/demo/index.m3u8")
	if timeBase != "1/90000" || len(pts) != 100 {
		t.Fatalf("ffprobe over HTTP: %d pictures at %s, want the file's 100 at 1/90000", len(pts), timeBase)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i]-pts[i-1] != 3600 {
			t.Fatalf("picture %d: PTS %d after %d, want a step of 3600", i, pts[i], pts[i-1])
		}
	}
	s.stop(t, syscall.SIGTERM)
}
