//go:build cgo

package playlist_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
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
			if g.URI != s.Name() || math.Round(g.Duration) > target {
				t.Errorf("entry %d: %s, %v s; want %s, within the target", i, g.URI, g.Duration, s.Name())
			}
			checkPDT(t, g.URI, g.ProgramDateTime, r.Timeline.Time(s.FirstPTS))
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
			_, err := segread.Decode(s.Path, func(f segread.Frame) error {
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

// TestLivePlaylistRules runs the real pipeline with the marker service
// (short segments, a two-second window, events of 1.2 s every 2.5 s, so
// marker ranges span segments and outlive the segment they start in) and
// polls the playlist while it grows, as a client does. Every version
// fetched is read with grafov/m3u8 in strict mode and held to RFC 8216's
// live rules against the one fetched before it (see checkLiveUpdate): no
// line once served changes while its ID is listed, lines are only
// appended, segments leave from the head, a date range stays while it
// covers a listed segment, TARGETDURATION never changes. Every segment
// that left the playlist is still served at the end (the run's grace is an
// hour).
func TestLivePlaylistRules(t *testing.T) {
	var (
		mu       sync.Mutex
		versions [][]byte
		stop     = make(chan struct{})
		polled   = make(chan struct{})
	)
	fetch := func(p *playlist.Playlist) {
		mu.Lock() // versions in the order fetched
		defer mu.Unlock()
		if v := p.Encoded(); len(versions) == 0 || !bytes.Equal(v, versions[len(versions)-1]) {
			versions = append(versions, v)
		}
	}
	r := pipelinetest.Start(t, pipelinetest.Config{
		Frames: 900, Segment: 500 * time.Millisecond, Window: 2 * time.Second, Jitter: 5 * time.Millisecond, Seed: 21,
		EventEvery: 2500 * time.Millisecond, EventDuration: 1200 * time.Millisecond,
		Attach: func(pr *pipelinetest.Run) func(media.Segment) {
			go func() { // a client polling, catching marker changes between segments
				defer close(polled)
				for {
					fetch(pr.Playlist)
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond): // the polling pace, not a proof
					}
				}
			}()
			// And the version after each segment, so that none is missed.
			return func(media.Segment) {
				if err := pr.Playlist.Flush(); err != nil {
					t.Error(err)
				}
				fetch(pr.Playlist)
			}
		},
	})
	close(stop)
	<-polled
	fetch(r.Playlist) // as the run left it

	var augmented, outlived, left int
	prev := parseVersion(t, versions[0])
	for _, data := range versions[1:] {
		v := parseVersion(t, data)
		checkLiveUpdate(t, prev, v)
		for id, tags := range prev.tags {
			if len(v.tags[id]) > len(tags) {
				augmented++
			}
			if len(v.tags[id]) == 0 {
				left++
			}
		}
		for id := range v.tags {
			if len(v.segs) > 0 && v.dateRange(t, id).start.Before(v.firstPDT) {
				outlived++ // listed though the segment it starts in has left
			}
		}
		prev = v
	}
	if len(versions) < len(r.Segments) || augmented == 0 || left == 0 || outlived == 0 {
		t.Fatalf("%d versions for %d segments; %d ranges augmented, %d left, %d outlived their first segment: the run proves little",
			len(versions), len(r.Segments), augmented, left, outlived)
	}
	listed := r.Playlist.Segments()
	for _, s := range r.Segments {
		if s.Seq >= listed[0].Seq {
			continue
		}
		if _, err := os.Stat(s.Path); err != nil {
			t.Errorf("%s left the window but must still be served: %v", s.Name(), err)
		}
		if got, ok := r.Playlist.Segment(s.Seq); !ok || !strings.HasSuffix(got.Path, s.Name()) {
			t.Errorf("Segment(%d) = %v, %v after it left the window", s.Seq, got, ok)
		}
	}
}
