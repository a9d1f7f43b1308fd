package pipeline_test

import (
	"image"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// motionSize is the size of the synthetic frames: its grey copy is
// 133×100, so one of the copy's pixels covers about 2.4×2.4 of the frame's.
var motionSize = media.Size{Width: 320, Height: 240}

// casesMotion are grey frames (level 100) in which, from frame 5 on, a
// square of side pixels at (96, 64) turns step grey levels lighter, and
// whether a MotionDetector with the threshold and least area given sees
// motion there: a change is motion when it is larger than the threshold
// on at least the least area.
var casesMotion = []struct {
	name      string
	threshold int
	minArea   int
	side      int
	step      byte
	motion    bool
}{
	{"a change well above the threshold, on 1600 px", 30, 500, 40, 80, true},
	{"a change below the threshold", 30, 500, 40, 15, false},
	{"the threshold raised above the change", 100, 500, 40, 80, false},
	{"1600 px below a least area of 2500 px", 30, 2500, 40, 80, false},
	{"1600 px above a least area of 1000 px", 30, 1000, 40, 80, true},
	{"16 px below the default least area", 30, 500, 4, 120, false},
	{"16 px with no least area", 30, 0, 4, 120, true},
}

// greyFrame returns a frame of grey level 100 with a side×side square at
// (96, 64) of level 100+step, stamped pts.
func greyFrame(side int, step byte, pts clock.Ticks) *pipeline.Frame {
	f := pipeline.NewFrame(motionSize)
	for i := range f.BGR {
		f.BGR[i] = 100
	}
	for y := 64; y < 64+side; y++ {
		for x := 96; x < 96+side; x++ {
			i := (y*motionSize.Width + x) * 3
			f.BGR[i], f.BGR[i+1], f.BGR[i+2] = 100+step, 100+step, 100+step
		}
	}
	f.PTS = pts
	return f
}

// TestMotionThresholdAndArea runs each case's 20 frames through a
// MotionDetector: with motion, one episode opens at frame 5, the first
// changed, with a box that holds the square and reaches at most one pixel
// of the grey copy (3 px) past it; without, nothing opens.
func TestMotionThresholdAndArea(t *testing.T) {
	for _, c := range casesMotion {
		t.Run(c.name, func(t *testing.T) {
			det, err := pipeline.MotionConfig{Threshold: c.threshold, MinArea: c.minArea}.New(motionSize)
			if err != nil {
				t.Fatal(err)
			}
			defer det.Close()
			var opened []media.Detection
			for i := range 20 {
				step := byte(0)
				if i >= 5 {
					step = c.step
				}
				if d, ok := det.Inspect(greyFrame(c.side, step, clock.Ticks(3600*i))); ok && d.Kind == media.Opened {
					opened = append(opened, d)
				}
			}
			if !c.motion {
				if len(opened) > 0 {
					t.Fatalf("motion %+v, want none", opened)
				}
				return
			}
			if len(opened) != 1 || opened[0].Start != 5*3600 || opened[0].Label != pipeline.MotionLabel {
				t.Fatalf("opened %+v, want one %q episode at frame 5 (PTS 18000)", opened, pipeline.MotionLabel)
			}
			square := image.Rect(96, 64, 96+c.side, 64+c.side)
			if box := opened[0].Box; !square.In(box) || !box.In(square.Inset(-3)) {
				t.Fatalf("box %v, want around the square %v, at most 3 px past it", box, square)
			}
		})
	}
}

// TestMotionConfigValidate refuses thresholds outside 0 to 255 and
// negative areas, naming the flag.
func TestMotionConfigValidate(t *testing.T) {
	for _, c := range []pipeline.MotionConfig{{Threshold: -1}, {Threshold: 256}, {Threshold: 30, MinArea: -1}} {
		if _, err := c.New(motionSize); err == nil {
			t.Errorf("%+v: made a detector, want an error", c)
		}
	}
}

// TestMotionMaskIgnoresStamp draws the --stamp strip of a new PTS on every
// frame of a still grey picture, and from frame 10 on a lighter square
// below it: with the strip's bounds as the Mask, the one episode opens at
// frame 10 around the square; without, the strip's cells are motion from
// the second frame on (which is why serve masks them).
func TestMotionMaskIgnoresStamp(t *testing.T) {
	size := media.Size{Width: 640, Height: 360}
	square := image.Rect(300, 200, 340, 240)
	frame := func(i int) *pipeline.Frame {
		f := pipeline.NewFrame(size)
		for j := range f.BGR {
			f.BGR[j] = 100
		}
		if i >= 10 {
			for y := square.Min.Y; y < square.Max.Y; y++ {
				for x := square.Min.X; x < square.Max.X; x++ {
					j := (y*size.Width + x) * 3
					f.BGR[j], f.BGR[j+1], f.BGR[j+2] = 200, 200, 200
				}
			}
		}
		f.PTS = clock.Ticks(3000 * (i + 1))
		stamp.Draw(f.BGR, size, f.PTS)
		return f
	}
	opened := func(mask image.Rectangle) []media.Detection {
		det, err := pipeline.MotionConfig{Threshold: pipeline.DefaultMotionThreshold, MinArea: pipeline.DefaultMotionMinArea, Mask: mask}.New(size)
		if err != nil {
			t.Fatal(err)
		}
		defer det.Close()
		var out []media.Detection
		for i := range 20 {
			if d, ok := det.Inspect(frame(i)); ok && d.Kind == media.Opened {
				out = append(out, d)
			}
		}
		return out
	}
	got := opened(stamp.Bounds(size))
	if len(got) != 1 || got[0].Start != 11*3000 || !square.In(got[0].Box) || !got[0].Box.In(square.Inset(-8)) {
		t.Errorf("masked: opened %+v, want one episode at frame 10 (PTS 33000) around %v", got, square)
	}
	if got := opened(image.Rectangle{}); len(got) == 0 || got[0].Start != 2*3000 {
		t.Errorf("unmasked: opened %+v, want the strip's change at frame 1 (PTS 6000) seen as motion", got)
	}
}
