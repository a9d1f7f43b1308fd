package pipeline_test

import (
	"context"
	"encoding/json"
	"image"
	"testing"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// movingBox is the filter graph of the motion clip: a white 60×60 box on
// grey, at y 90, standing at x 20 for frames 0 to 25, then moving 8 px to
// the right every frame (frame n, at t = n/25 s, at x 20+8×(n−25)) up to
// frame 55 (x 260), and standing there from then on. Frame 26 is the
// first that differs from the one before; frame 56 the first that does
// not. (The frame number comes from t: overlay's own n counts from 1.)
const movingBox = "[0][1]overlay=x='20+8*clip(round(25*t)-25,0,30)':y=90:shortest=1"

// The motion clip's frames: first moving, first still again; and the path
// its box sweeps.
const (
	firstMoving = 26
	firstStill  = 56
)

var boxPath = image.Rect(20, 90, 260+60, 90+60)

// TestFileStreamMotion streams a 6 s, 25 fps H.264 file (B-frames) of a
// box that stands, moves for 30 frames, then stands for 94 more, with
// --detect motion's detector at its defaults: there is one marker,
// labelled motion; its PTS is that of frame 26, the first where the box
// moved (a frame's PTS is startPTS + 3600 n); it ends no earlier than
// frame 56, the first still one, and no later than a second after it (the
// background takes up to 16 frames to forget the box's last move, the
// episode 5 still frames to end); its box in data lies on the box's path.
// Checked to fail with the detector's pixel test inverted (a marker at
// frame 1), and with the background never updated (the episode never
// ends).
func TestFileStreamMotion(t *testing.T) {
	in := ffmpeg(t, "-f", "lavfi", "-i", "color=c=gray:size=320x240:rate=25:duration=6",
		"-f", "lavfi", "-i", "color=c=white:size=60x60:rate=25", "-filter_complex", movingBox,
		"-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "motion.mp4")
	motion := pipeline.MotionConfig{Threshold: pipeline.DefaultMotionThreshold, MinArea: pipeline.DefaultMotionMinArea}
	r := runFileStream(t, func(at pipeline.Start) (pipeline.Source, error) {
		return pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize}, at)
	}, fileOptions{detector: motion.New})
	if len(r.frames) != 150 {
		t.Fatalf("decoded %d frames, want the file's 150", len(r.frames))
	}
	ms, err := r.store.List(context.Background(), "file", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d markers, want 1 for the one episode of motion: %+v", len(ms), ms)
	}
	m := ms[0]
	frame := func(n int) clock.Ticks { return startPTS + clock.Ticks(3600*n) }
	if m.Label != pipeline.MotionLabel || m.Source != marker.FromDetector {
		t.Errorf("marker %q from %s, want %q from the detector", m.Label, m.Source, pipeline.MotionLabel)
	}
	if m.PTS != frame(firstMoving) {
		t.Errorf("marker at PTS %d (frame %d), want %d: frame %d, the first where the box moved",
			m.PTS, (m.PTS-startPTS)/3600, frame(firstMoving), firstMoving)
	}
	if end := m.PTS + m.Duration; m.Duration == 0 || end < frame(firstStill) || end > frame(firstStill+25) {
		t.Errorf("marker ends at PTS %d (frame %d), want from frame %d to %d", end, (end-startPTS)/3600, firstStill, firstStill+25)
	}
	var box struct{ X, Y, Width, Height int }
	if err := json.Unmarshal(m.Data, &box); err != nil {
		t.Fatalf("marker data %s: %v", m.Data, err)
	}
	got := image.Rect(box.X, box.Y, box.X+box.Width, box.Y+box.Height)
	if got.Empty() || !got.In(boxPath.Inset(-3)) {
		t.Errorf("marker box %v (data %s), want within the box's path %v (3 px spare)", got, m.Data, boxPath)
	}
}
