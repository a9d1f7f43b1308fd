package muxer_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/muxer/tspackets"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestContinuityAcrossSegments reads every segment of a run packet by
// packet with a pure-Go reader (go-astits) and reads them as a player
// reads a live stream: as one transport stream. Every PID's continuity
// counter goes on across each boundary, no packet claims a discontinuity,
// every segment opens with PAT and PMT and then an IDR, and the PTS in the
// TS are the generator's, tick for tick.
func TestContinuityAcrossSegments(t *testing.T) {
	for _, c := range casesEncoding {
		t.Run(c.name, func(t *testing.T) {
			r := runMuxer(t, runConfig{dir: t.TempDir(), frames: c.frames, bframes: c.bframes, keyInterval: c.keyInterval})
			if len(r.segments) < 5 {
				t.Fatalf("%d segments from %d frames at 1 s, want at least 5", len(r.segments), c.frames)
			}
			files := readPackets(t, r.segments)
			if crossed := checkContinuity(t, r.segments, files); crossed < 3*(len(r.segments)-1) {
				t.Errorf("%d counters checked across %d boundaries, want PAT, PMT and video at each", crossed, len(r.segments)-1)
			}
			var pts []clock.Ticks
			for i, s := range r.segments {
				if s.Discontinuity {
					t.Errorf("segment %d is marked discontinuous in a run that lost nothing", s.Seq)
				}
				f := files[i]
				checkStart(t, s, f)
				video := f.VideoPES()
				if len(video) != s.Frames {
					t.Errorf("segment %d: %d video PES packets, Frames says %d", s.Seq, len(video), s.Frames)
				}
				for _, p := range video {
					pts = append(pts, p.PTS)
				}
			}
			slices.Sort(pts) // decode order to presentation order
			if !slices.Equal(pts, r.pts) {
				t.Errorf("the TS carries %d PTS, the generator made %d: they differ (first TS PTS %v, first generated %v)",
					len(pts), len(r.pts), pts[:min(3, len(pts))], r.pts[:min(3, len(r.pts))])
			}
		})
	}
}

// TestRestartMarksDiscontinuity stops a stream and starts a new Muxer on
// the same folder, wired as cmd/hlsmark wires it after a restart (playlist
// restored, Sweep, FirstSeq). The new muxer's counters start again, so its
// first segment must carry the discontinuity indicator on every PID, and
// the playlist must put EXT-X-DISCONTINUITY before it. ffmpeg, reading
// both runs through the playlist served over HTTP, must log nothing.
func TestRestartMarksDiscontinuity(t *testing.T) {
	dir := t.TempDir()
	newPlaylist := func() *playlist.Playlist {
		p, err := playlist.New(playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pl := newPlaylist()
	before := runMuxer(t, runConfig{dir: dir, frames: 100, publish: pl.Add})
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}

	pl = newPlaylist()
	if _, err := muxer.Sweep(dir, func(s media.Seq) bool { _, ok := pl.Segment(s); return ok }); err != nil {
		t.Fatal(err)
	}
	// The second run's clock goes on from the first's, 3 s after it.
	resume := before.pts[len(before.pts)-1].Duration() + 3*time.Second
	after := runMuxer(t, runConfig{dir: dir, frames: 100, firstSeq: pl.NextSeq(), start: resume, publish: pl.Add})
	if len(before.segments) < 3 || len(after.segments) < 3 {
		t.Fatalf("%d segments before the restart, %d after: too few to test", len(before.segments), len(after.segments))
	}
	restart := after.segments[0]
	if restart.Seq != before.segments[len(before.segments)-1].Seq+1 || !restart.Discontinuity {
		t.Fatalf("first segment after the restart: %d, discontinuous %v; want %d, discontinuous",
			restart.Seq, restart.Discontinuity, before.segments[len(before.segments)-1].Seq+1)
	}
	segs := append(slices.Clone(before.segments), after.segments...)
	files := readPackets(t, segs)
	for i, s := range segs {
		if s.Discontinuity != (s.Seq == restart.Seq) {
			t.Errorf("segment %d: discontinuous %v, want only %d", s.Seq, s.Discontinuity, restart.Seq)
		}
		checkStart(t, s, files[i])
	}
	checkContinuity(t, segs, files)

	if err := pl.Flush(); err != nil { // the last segment published
		t.Fatal(err)
	}
	listed := mediaSegments(t, pl.Encoded())
	var found bool
	for _, g := range listed {
		if g.URI == restart.Name() {
			found = true
		}
		if g.Discontinuity != (g.URI == restart.Name()) {
			t.Errorf("playlist: %s has EXT-X-DISCONTINUITY %v, want it only on %s:\n%s", g.URI, g.Discontinuity, restart.Name(), pl.Encoded())
		}
	}
	if !found || len(listed) != len(segs) {
		t.Fatalf("playlist lists %d segments, %s among them %v; want all %d:\n%s", len(listed), restart.Name(), found, len(segs), pl.Encoded())
	}

	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	var stderr bytes.Buffer
	cmd := ffmpegCopy(context.Background(), t, srv.URL+"/"+playlist.FileName)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
	}
	checkSilent(t, stderr.Bytes())
}

// readPackets reads each segment's file with the pure-Go reader.
func readPackets(t *testing.T, segs []media.Segment) []tspackets.File {
	t.Helper()
	files := make([]tspackets.File, len(segs))
	for i, s := range segs {
		var err error
		if files[i], err = tspackets.Read(s.Path); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// checkContinuity reads consecutive segments as one transport stream, as
// a player does (ISO/IEC 13818-1 2.4.3.3): each packet that carries a
// payload has its PID's counter plus one, modulo 16, unless it carries the
// discontinuity indicator. The indicator must be on the first packet of
// every PID in a segment marked discontinuous, and nowhere else. It
// returns how many counters it checked across a segment boundary.
func checkContinuity(t *testing.T, segs []media.Segment, files []tspackets.File) (crossed int) {
	t.Helper()
	last := map[uint16]uint8{} // each PID's counter in its last packet with a payload so far
	for i, s := range segs {
		if i > 0 && s.Seq != segs[i-1].Seq+1 {
			t.Fatalf("segment %d follows %d: not consecutive", s.Seq, segs[i-1].Seq)
		}
		seen := map[uint16]bool{}
		for j, p := range files[i].Packets {
			first := !seen[p.PID]
			seen[p.PID] = true
			if want := first && s.Discontinuity; p.Discontinuity != want {
				t.Errorf("segment %d, packet %d (PID %d): discontinuity indicator %v, want %v", s.Seq, j, p.PID, p.Discontinuity, want)
			}
			if !p.Payload {
				continue
			}
			prev, ok := last[p.PID]
			last[p.PID] = p.Counter
			switch {
			case p.Discontinuity:
			case !ok && i > 0:
				t.Errorf("segment %d, packet %d: PID %d was in no earlier segment, and the segment is not discontinuous", s.Seq, j, p.PID)
			case ok && p.Counter != (prev+1)%16:
				t.Errorf("segment %d, packet %d (PID %d): counter %d follows %d", s.Seq, j, p.PID, p.Counter, prev)
			case ok && first:
				crossed++
			}
		}
	}
	return crossed
}

// checkStart checks that a segment can be played on its own from its first
// byte: PAT and PMT come before any video, and the first picture is an IDR
// flagged for random access, at the segment's FirstPTS.
func checkStart(t *testing.T, s media.Segment, f tspackets.File) {
	t.Helper()
	if !f.TablesFirst() {
		t.Errorf("segment %d: PAT and PMT do not both come before the video (%d packets before it: %+v)", s.Seq, len(f.Lead()), f.Lead())
	}
	video := f.VideoPES()
	if len(video) == 0 {
		t.Fatalf("segment %d: no video PES", s.Seq)
	}
	if v := video[0]; !v.IDR || !v.RandomAccess || v.PTS != s.FirstPTS {
		t.Errorf("segment %d: first video PES is IDR %v, random access %v, PTS %d; want an IDR flagged for random access at %d",
			s.Seq, v.IDR, v.RandomAccess, v.PTS, s.FirstPTS)
	}
}

// mediaSegments parses a media playlist with grafov/m3u8, strictly.
func mediaSegments(t *testing.T, b []byte) []*m3u8.MediaSegment {
	t.Helper()
	p, typ, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
	if err != nil || typ != m3u8.MEDIA {
		t.Fatalf("playlist: %v (type %v):\n%s", err, typ, b)
	}
	mp := p.(*m3u8.MediaPlaylist)
	return mp.Segments[:mp.Count()]
}
