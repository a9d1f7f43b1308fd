//go:build cgo

package playlist_test

import (
	"encoding/json"
	"math"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/tsread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestLivePlaylist runs the real pipeline (libx264, mpegts, a jittered
// generator clock) past a 3 s window and reads what it left behind: the
// playlist with grafov/m3u8 and ffprobe, which share no code with the
// playlist's writer, and the segments with libav, the library that wrote
// them (the muxer's tests read them again with a pure-Go TS reader).
func TestLivePlaylist(t *testing.T) {
	probe := ffprobe(t)
	const window = 3 * time.Second
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 240, Segment: time.Second, Window: window, Jitter: 5 * time.Millisecond, Seed: 11})
	listed := r.Playlist.Segments()
	if len(listed) < 3 || listed[0].Seq == 0 {
		t.Fatalf("window holds segments %d.. of %d: it never slid", listed[0].Seq, len(r.Segments))
	}
	checkOnDisk(t, r.Dir, r.Playlist)

	t.Run("grafov", func(t *testing.T) {
		media, segs := decodeStrict(t, r.Playlist.Encoded())
		target := targetDuration(t, r.Playlist.Encoded())
		if media.SeqNo != uint64(listed[0].Seq) || len(segs) != len(listed) || target != 1 {
			t.Fatalf("MEDIA-SEQUENCE %d, %d segments, TARGETDURATION %v; want %d, %d, 1",
				media.SeqNo, len(segs), target, listed[0].Seq, len(listed))
		}
		var span float64
		for i, g := range segs {
			s := listed[i]
			if g.URI != s.Name() || !g.ProgramDateTime.Equal(r.Timeline.Time(s.FirstPTS)) || math.Round(g.Duration) > target {
				t.Errorf("entry %d: %s, %v s, PROGRAM-DATE-TIME %v; want %s starting %v",
					i, g.URI, g.Duration, g.ProgramDateTime, s.Name(), r.Timeline.Time(s.FirstPTS))
			}
			span += g.Duration
		}
		if span < window.Seconds() {
			t.Errorf("EXTINFs add up to %.3f s, less than the %v window", span, window)
		}
	})

	// Every frame libav decodes from every segment the muxer made is found
	// by Locate in the segment that holds it, at its offset from that
	// segment's first decoded frame, if and only if the segment is listed.
	t.Run("locate", func(t *testing.T) {
		var checked int
		for _, s := range r.Segments {
			var first clock.Ticks
			var n int
			_, err := tsread.Decode(s.Path, func(f tsread.Frame) error {
				if n == 0 {
					first = f.PTS
				}
				n++
				pos, ok := r.Playlist.Locate(f.PTS)
				inWindow := s.Seq >= listed[0].Seq
				if ok != inWindow || ok && (pos.Seq != s.Seq || pos.Offset != f.PTS-first) {
					t.Errorf("frame %d of segment %d (PTS %d): Locate = %+v, %v; want segment %d at %d, found %v",
						n, s.Seq, f.PTS, pos, ok, s.Seq, f.PTS-first, inWindow)
				}
				checked++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if checked != len(r.PTS) {
			t.Fatalf("checked %d frames, the run made %d", checked, len(r.PTS))
		}
		last := listed[len(listed)-1]
		for _, pts := range []clock.Ticks{r.PTS[0], listed[0].FirstPTS - 1, last.End(), last.End() + clock.Hz} {
			if pos, ok := r.Playlist.Locate(pts); ok {
				t.Errorf("Locate(%d) = %+v outside the window [%d, %d)", pts, pos, listed[0].FirstPTS, last.End())
			}
		}
	})

	t.Run("ffprobe", func(t *testing.T) {
		cmd := exec.Command(probe, "-v", "error", "-show_entries", "format=format_name:stream=codec_type,codec_name", "-of", "json", playlist.FileName)
		cmd.Dir = r.Dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, stderrOf(err))
		}
		var got struct {
			Format struct {
				FormatName string `json:"format_name"`
			} `json:"format"`
			Streams []struct {
				CodecType string `json:"codec_type"`
				CodecName string `json:"codec_name"`
			} `json:"streams"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("ffprobe output: %v\n%s", err, out)
		}
		codecs := []string{}
		for _, s := range got.Streams {
			codecs = append(codecs, s.CodecType+"/"+s.CodecName)
		}
		if got.Format.FormatName != "hls" || !slices.Equal(codecs, []string{"video/h264"}) {
			t.Fatalf("ffprobe reads format %q with streams %v, want hls with one H.264 video stream\n%s", got.Format.FormatName, codecs, out)
		}
	})
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
