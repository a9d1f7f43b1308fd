//go:build cgo

package server

import (
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestStreamEpoch reads the epoch GET /api/streams gives and checks it
// against the playlist, parsed by grafov/m3u8: each segment's program date
// time is the epoch plus the PTS of its first frame (to the millisecond
// EXT-X-PROGRAM-DATE-TIME is written to). Checked to fail with the epoch
// taken one second off.
func TestStreamEpoch(t *testing.T) {
	s := newMarkerServer(t, "")
	var body struct {
		Streams []struct {
			Epoch *time.Time `json:"epoch"`
		} `json:"streams"`
	}
	getJSON(t, s.URL+"/api/streams", &body)
	if len(body.Streams) != 1 || body.Streams[0].Epoch == nil {
		t.Fatalf("streams %+v: want one, with an epoch", body.Streams)
	}
	epoch := *body.Streams[0].Epoch
	listed, _ := pipelinetest.ReadPlaylist(t, s.run.Dir)
	if len(listed) == 0 {
		t.Fatal("the playlist lists no segment")
	}
	first := map[int64]time.Duration{}
	for _, seg := range s.run.Segments {
		first[int64(seg.Seq)] = seg.FirstPTS.Duration()
	}
	for _, l := range listed {
		at, ok := first[int64(l.Seq)]
		if !ok {
			t.Fatalf("segment %d is listed but was not made", l.Seq)
		}
		if d := l.PDT.Sub(epoch.Add(at)); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("segment %d: program date time %s, epoch %s plus its first PTS %s is %s", l.Seq, l.PDT, epoch, at, epoch.Add(at))
		}
	}
}
