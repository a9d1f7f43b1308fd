package stamp_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// TestRawStamp sends framed grey pictures to a Raw source with Stamp: each
// frame shows its producer's PTS (as the TS carries it) over the picture,
// whose rows below the strip stay the producer's. Checked to fail with the
// Draw call taken out of Raw.Next.
func TestRawStamp(t *testing.T) {
	s := media.Size{Width: 480, Height: 64}
	sent := []clock.Ticks{90000, 93000, clock.Wrap + 5}
	var in []byte
	for _, pts := range sent {
		in = binary.BigEndian.AppendUint64(in, uint64(pts))
		in = append(in, bytes.Repeat([]byte{100}, s.Width*s.Height)...)
	}
	at := pipeline.Start{Clock: clock.NewFake(epoch, nil), Timeline: clock.Timeline{Epoch: epoch}}
	src, err := pipeline.NewRaw(pipeline.RawConfig{Size: s, Format: pipeline.Gray, Framed: true, Stamp: true}, bytes.NewReader(in), at)
	if err != nil {
		t.Fatal(err)
	}
	f := pipeline.NewFrame(s)
	for _, pts := range sent {
		if err := src.Next(t.Context(), f); err != nil {
			t.Fatal(err)
		}
		if got, err := stamp.Read(rgba(t, f.BGR, s, s)); err != nil || got != pts.TS() {
			t.Errorf("frame sent at %d shows %d, %v; want %d", pts, got, err, pts.TS())
		}
		last := f.BGR[len(f.BGR)-3*s.Width:]
		if !bytes.Equal(last, bytes.Repeat(last[:1], len(last))) || last[0] < 95 || last[0] > 105 {
			t.Errorf("the picture's last row is %v..., want the producer's grey 100", last[:6])
		}
	}
	if _, err := pipeline.NewRaw(pipeline.RawConfig{Size: media.Size{Width: 320, Height: 240}, Format: pipeline.Gray, Framed: true, Stamp: true}, bytes.NewReader(nil), at); err == nil {
		t.Error("a stamped 320x240 raw source was made; the strip does not fit")
	}
}
