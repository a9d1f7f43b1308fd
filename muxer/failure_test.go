package muxer_test

import (
	"os"
	"testing"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestWriteFailureLosesOnlyThoseSegments takes the stream folder away in
// the middle of a run (every write into it fails) and brings it back: the
// failures are reported, the segments that could not be written are never
// published, the numbering stays consecutive, the first segment after the
// outage is a discontinuity, and the stream goes on. Read as one transport
// stream, the segments' counters go on except where the discontinuity
// indicator says they start again: on every PID of the segment after the
// outage.
func TestWriteFailureLosesOnlyThoseSegments(t *testing.T) {
	dir := t.TempDir()
	away := dir + ".away"
	var packets, failures int
	var outageEnd int // segments published when the folder came back
	r := runMuxer(t, runConfig{
		dir: dir, frames: 240,
		onError: func(error) { failures++ },
		afterPacket: func(m *muxer.Muxer, published []media.Segment) error {
			packets++
			switch packets {
			case 40:
				return os.Rename(dir, away)
			case 110:
				outageEnd = len(published)
				return os.Rename(away, dir)
			}
			return nil
		},
	})
	if failures == 0 {
		t.Fatal("no write failure was reported while the folder was gone")
	}
	if len(r.segments) <= outageEnd {
		t.Fatalf("no segment published after the folder came back (%d in all)", len(r.segments))
	}
	var discontinuities int
	for i, s := range r.segments {
		if i > 0 && s.Seq != r.segments[i-1].Seq+1 {
			t.Errorf("segment %d follows %d: numbers must stay consecutive", s.Seq, r.segments[i-1].Seq)
		}
		if s.Discontinuity {
			discontinuities++
			if i == 0 || s.FirstPTS <= r.segments[i-1].End() {
				t.Errorf("segment %d is marked discontinuous but follows on from the one before", s.Seq)
			}
		} else if i > 0 && s.FirstPTS != r.segments[i-1].End() {
			t.Errorf("segment %d leaves a gap after %d without a discontinuity", s.Seq, r.segments[i-1].Seq)
		}
		d := decode(t, s.Path) // every published segment is complete on disk
		if !d.file.FirstPacketKey || len(d.frames) != s.Frames {
			t.Errorf("segment %d on disk: key first %v, %d frames of %d", s.Seq, d.file.FirstPacketKey, len(d.frames), s.Frames)
		}
	}
	if discontinuities != 1 {
		t.Errorf("%d discontinuities, want exactly one, after the outage", discontinuities)
	}
	files := readPackets(t, r.segments)
	for i, s := range r.segments {
		checkStart(t, s, files[i])
	}
	checkContinuity(t, r.segments, files)
}
