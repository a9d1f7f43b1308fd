package snapshot

import (
	"testing"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// hd is the size the benchmarks picture.
var hd = media.Size{Width: 1280, Height: 720}

// benchFrame is a 1280x720 checkerboard of greys with one mint square, as
// the detector sees one.
func benchFrame() *pipeline.Frame {
	f := pipeline.NewFrame(hd)
	for y := range hd.Height {
		for x := range hd.Width {
			v := byte(40 + 30*((x/120+y/120)%6))
			if x >= 600 && x < 720 && y >= 240 && y < 360 {
				f.BGR[(y*hd.Width+x)*3], f.BGR[(y*hd.Width+x)*3+1], f.BGR[(y*hd.Width+x)*3+2] = pipeline.Mint[2], pipeline.Mint[1], pipeline.Mint[0]
				continue
			}
			f.BGR[(y*hd.Width+x)*3], f.BGR[(y*hd.Width+x)*3+1], f.BGR[(y*hd.Width+x)*3+2] = v, v, v
		}
	}
	return f
}

// BenchmarkKeepSource is what a detector marker costs the source's
// goroutine: Keep's copy of the frame into a spare buffer.
func BenchmarkKeepSource(b *testing.B) {
	k, err := NewKeeper(KeeperConfig{Dir: b.TempDir(), Size: hd})
	if err != nil {
		b.Fatal(err)
	}
	f := benchFrame()
	for b.Loop() {
		k.Keep(f)
		j := <-k.jobs // as Run takes it, without the encoding
		k.spare <- j.bgr
	}
	if k.Dropped() != 0 {
		b.Fatalf("%d frames dropped", k.Dropped())
	}
}

// BenchmarkKeepWrite is what a detector marker costs the Keeper's
// goroutine at 1280x720: BGR24 to YUV420P to RGBA (swscale), the JPEG,
// and its durable write (fsync).
func BenchmarkKeepWrite(b *testing.B) {
	k, err := NewKeeper(KeeperConfig{Dir: b.TempDir(), Size: hd})
	if err != nil {
		b.Fatal(err)
	}
	f := benchFrame()
	var pts clock.Ticks
	for b.Loop() {
		pts += 3000
		if err := k.write(keepJob{pts: pts, bgr: f.BGR}); err != nil {
			b.Fatal(err)
		}
	}
}
