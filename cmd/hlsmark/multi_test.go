package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestServeConfigThreeStreams runs three streams from one config file: two
// checkerboards of different sizes and a looping file. All three
// playlists advance, each at its size; a marker posted to each stream is
// listed by that stream only; /api/streams lists the three, live. Then the
// file is removed: at its next loop the file stream fails, saying why,
// while the other two stay live and go on listing segments.
func TestServeConfigThreeStreams(t *testing.T) {
	clip := makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
		"-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "clip.mp4")
	data, addr := t.TempDir(), freeAddr(t)
	config := writeConfig(t, fmt.Sprintf(`
addr: %s
data: %s
streams:
  - name: small
    size: 320x240
    segment: 1s
    preset: ultrafast
  - name: big
    size: 480x272
    segment: 1s
    preset: ultrafast
  - name: clip
    input: %s
    loop: true
    size: 320x240
    fps: 25
    segment: 1s
    preset: ultrafast
`, addr, data, clip))
	s := startChild(t, nil, addr, []string{cliBinary(t), "serve", "--config", config})
	names := []string{"small", "big", "clip"}
	for _, name := range names {
		pollUntil(t, name+" listing two segments", time.Minute, func() bool {
			pl, err := s.on(name).playlist()
			return err == nil && pl != nil && len(segments(pl)) >= 2
		})
	}
	for name, want := range map[string]string{"small": "320x240", "big": "480x272", "clip": "320x240"} {
		pl := s.on(name).mustPlaylist(t)
		if got := probeSize(t, s.base+"/streams/"+name+"/"+segments(pl)[0].URI); got != want {
			t.Errorf("stream %s: segments of %s, want %s", name, got, want)
		}
	}

	// A marker per stream, at the first PTS of its first segment.
	for _, name := range names {
		st := s.on(name)
		pl := st.mustPlaylist(t)
		first := decodedPTSIn(t, pl, filepath.Join(data, name))[pl.SeqNo][0]
		if code, m := st.postMarker("for "+name, int64(first)); code != 201 || m.Sequence == nil {
			t.Fatalf("POST a marker to %s: %d %+v", name, code, m)
		}
	}
	for _, name := range names {
		var own []string
		for _, m := range s.on(name).markers(t) {
			if strings.HasPrefix(m.Label, "for ") {
				own = append(own, m.Label)
			}
		}
		if len(own) != 1 || own[0] != "for "+name {
			t.Errorf("stream %s lists the posted markers %q, want only its own", name, own)
		}
	}
	listed := listStreams(t, s)
	if len(listed) != 3 {
		t.Fatalf("/api/streams lists %d streams, want 3", len(listed))
	}
	for name, want := range map[string]listedStream{
		"small": {State: "live", Input: "checkerboard", Size: "320x240", FPS: 30},
		"big":   {State: "live", Input: "checkerboard", Size: "480x272", FPS: 30},
		"clip":  {State: "live", Input: clip, Size: "320x240", FPS: 25},
	} {
		got := listed[name]
		if got.State != want.State || got.Input != want.Input || got.Size != want.Size || got.FPS != want.FPS {
			t.Errorf("/api/streams lists %s as %+v, want %+v", name, got, want)
		}
		if got.Counters.FramesEncoded == 0 || got.Counters.SegmentsWritten < 2 {
			t.Errorf("/api/streams counts for %s: %+v, want frames and segments", name, got.Counters)
		}
	}

	// The file goes: its stream fails at its next loop; the others go on.
	before := map[string]uint64{}
	for _, name := range []string{"small", "big"} {
		before[name] = s.on(name).mustPlaylist(t).SeqNo + uint64(len(segments(s.on(name).mustPlaylist(t))))
	}
	if err := os.Remove(clip); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the clip stream to fail", time.Minute, func() bool { st, _ := s.on("clip").streamState(); return st == "failed" })
	if _, why := s.on("clip").streamState(); !strings.Contains(why, "clip.mp4") {
		t.Errorf("the failed stream's reason %q does not name its file", why)
	}
	for _, name := range []string{"small", "big"} {
		pollUntil(t, name+" going on", time.Minute, func() bool {
			pl := s.on(name).mustPlaylist(t)
			return pl.SeqNo+uint64(len(segments(pl))) > before[name]+1
		})
		if st, why := s.on(name).streamState(); st != "live" {
			t.Errorf("stream %s is %s (%s) after another stream failed", name, st, why)
		}
	}
	s.stop(t, syscall.SIGTERM) // fails the test unless the exit is 0
	for _, name := range names {
		if _, ended := pipelinetest.ReadPlaylist(t, filepath.Join(data, name)); !ended {
			t.Errorf("stream %s: no EXT-X-ENDLIST after the stop", name)
		}
	}
}

// listedStream is a stream as GET /api/streams lists it.
type listedStream struct {
	Name, State, Input, Size string
	FPS                      int
	Epoch                    time.Time
	Counters                 struct {
		FramesEncoded   uint64 `json:"frames_encoded"`
		SegmentsWritten uint64 `json:"segments_written"`
	}
}

// listStreams returns the streams GET /api/streams lists, by name.
func listStreams(t testing.TB, s *childServer) map[string]listedStream {
	t.Helper()
	code, b := s.get("/api/streams")
	var out struct{ Streams []listedStream }
	if code != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("/api/streams: %d %s", code, b)
	}
	byName := map[string]listedStream{}
	for _, st := range out.Streams {
		byName[st.Name] = st
	}
	return byName
}

// probeSize returns the WxH of the video at url, as ffprobe reads it.
func probeSize(t *testing.T, url string) string {
	t.Helper()
	out, err := exec.Command(ffprobePath(t), "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=s=x:p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n") // then again under its program
	return first
}
