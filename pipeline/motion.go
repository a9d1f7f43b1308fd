package pipeline

import (
	"fmt"
	"image"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// MotionLabel is the label of the events MotionDetector sees.
const MotionLabel = "motion"

// The defaults of MotionConfig, as hlsmark serve's flags give them.
const (
	// DefaultMotionThreshold is Frigate's default threshold: a change of
	// more than 30 luma levels, well above a camera's noise once averaged
	// over a pixel of the grey copy.
	DefaultMotionThreshold = 30
	// DefaultMotionMinArea is about 0.05 % of a 1280×720 frame, a 22×22
	// pixel patch: about ten pixels of its grey copy.
	DefaultMotionMinArea = 500
)

// motionHeight is the height of the grey copy in which motion is looked
// for (frames less tall keep their height), as in Frigate: small enough to
// cost little next to encoding, and each of its pixels the average of
// many of the frame's, which smooths away noise.
const motionHeight = 100

// motionStill is how many frames in a row without motion end an episode:
// motion that pauses for fewer frames goes on in the same episode.
const motionStill = 5

// backgroundShift sets how fast the background follows the picture: each
// frame moves every background pixel 1/2^backgroundShift (1/8) of the way
// to the frame's. A picture that stops changing stops differing from it
// within about 8 to 16 frames, depending on its contrast with what was
// there.
const backgroundShift = 3

// MotionConfig configures a MotionDetector.
type MotionConfig struct {
	// Threshold is by how many 8-bit luma levels (0 to 255) a pixel of the
	// grey copy must differ from the background to count as changed.
	Threshold int
	// MinArea is the least changed area, in pixels of the full frame,
	// that counts as motion; 0 counts any changed pixel.
	MinArea int
	// Mask is a part of the full frame whose changes are never motion
	// (the strip --stamp draws, see package stamp); empty for none.
	Mask image.Rectangle
}

// Validate checks c, naming the flag of each field at fault.
func (c MotionConfig) Validate() error {
	switch {
	case c.Threshold < 0 || c.Threshold > 255:
		return fmt.Errorf("motion-threshold %d: must be from 0 to 255 (luma levels)", c.Threshold)
	case c.MinArea < 0:
		return fmt.Errorf("motion-min-area %d: must not be negative", c.MinArea)
	}
	return nil
}

// New returns a MotionDetector for frames of size s: a NewDetector.
func (c MotionConfig) New(s media.Size) (Detector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	h := min(motionHeight, s.Height)
	small := media.Size{Width: max(1, (s.Width*h+s.Height/2)/s.Height), Height: h}
	sc, err := newScaler(BGR24, s, Gray, small, area)
	if err != nil {
		return nil, fmt.Errorf("motion detector: %w", err)
	}
	return &MotionDetector{cfg: c, full: s, small: small, scaler: sc, masked: maskOnCopy(c.Mask, s, small),
		grey: make([]byte, small.Width*small.Height), background: make([]int32, small.Width*small.Height)}, nil
}

// maskOnCopy returns the pixels of the grey copy (of size small) of a
// frame of size full that mask touches, one more all round: the copy's
// area filter blurs each pixel into its neighbours.
func maskOnCopy(mask image.Rectangle, full, small media.Size) image.Rectangle {
	if mask.Empty() {
		return image.Rectangle{}
	}
	W, H, w, h := full.Width, full.Height, small.Width, small.Height
	r := image.Rect(mask.Min.X*w/W-1, mask.Min.Y*h/H-1, (mask.Max.X*w+W-1)/W+1, (mask.Max.Y*h+H-1)/H+1)
	return r.Intersect(image.Rect(0, 0, w, h))
}

// MotionDetector finds motion by frame differencing, as Frigate does:
// libswscale shrinks each frame to a grey copy motionHeight pixels high,
// averaging the pixels each of the copy's covers (which also blurs it);
// each pixel is compared with a background, a running average of the
// copies; a pixel differing by more than Threshold has changed, and there
// is motion when the changed pixels cover at least MinArea pixels of the
// full frame.
//
// An episode of motion is one event: it opens with the first frame with
// motion, and closes with the first frame of the first run of motionStill
// (5) frames in a row without. Its box bounds every changed pixel of that
// first frame, in the full frame's pixels.
type MotionDetector struct {
	cfg         MotionConfig
	full, small media.Size
	scaler      *scaler
	masked      image.Rectangle // the copy's pixels never counted (MotionConfig.Mask)
	grey        []byte          // the frame's grey copy
	background  []int32         // the running average, in 1/256 luma levels
	primed      bool            // the background holds a frame

	open       bool
	start      clock.Ticks // the episode's first frame
	still      int         // frames in a row without motion since the last with it
	stillStart clock.Ticks // the first of them
}

// Inspect looks at one frame, of the size the detector was made for, and
// reports whether an episode of motion opened or closed with it.
func (d *MotionDetector) Inspect(f *Frame) (media.Detection, bool) {
	box, moved := d.motion(f)
	switch {
	case moved && !d.open:
		d.open, d.start, d.still = true, f.PTS, 0
		return media.Detection{Kind: media.Opened, Label: MotionLabel, Start: f.PTS, Box: box}, true
	case moved:
		d.still = 0
	case d.open:
		if d.still == 0 {
			d.stillStart = f.PTS
		}
		if d.still++; d.still == motionStill {
			d.open = false
			return media.Detection{Kind: media.Closed, Label: MotionLabel, Start: d.start, End: d.stillStart}, true
		}
	}
	return media.Detection{}, false
}

// Stop reports the episode in progress, if any, as Closed: at the first
// still frame if the motion had stopped, else Cut at end, the end of the
// last frame.
func (d *MotionDetector) Stop(end clock.Ticks) (media.Detection, bool) {
	if !d.open {
		return media.Detection{}, false
	}
	d.open = false
	if d.still > 0 {
		return media.Detection{Kind: media.Closed, Label: MotionLabel, Start: d.start, End: d.stillStart}, true
	}
	return media.Detection{Kind: media.Closed, Label: MotionLabel, Start: d.start, End: max(end, d.start), Cut: true}, true
}

// Close frees the swscale context.
func (d *MotionDetector) Close() { d.scaler.Close() }

// motion makes f's grey copy, compares it with the background, moves the
// background towards it, and returns the bounds of the changed pixels in
// the full frame and whether they amount to motion. The first frame only
// fills the background.
func (d *MotionDetector) motion(f *Frame) (image.Rectangle, bool) {
	n := d.full.Width * d.full.Height * 3
	if f.Size != d.full || len(f.BGR) < n {
		panic(fmt.Sprintf("motion detector: a %s frame of %d bytes, made for %s", f.Size, len(f.BGR), d.full))
	}
	if err := d.scaler.scale(f.BGR[:n], d.grey); err != nil {
		panic(err) // only for pictures of the wrong size, ruled out above
	}
	if !d.primed {
		for i, v := range d.grey {
			d.background[i] = int32(v) << 8
		}
		d.primed = true
		return image.Rectangle{}, false
	}
	w, h := d.small.Width, d.small.Height
	limit := int32(d.cfg.Threshold) << 8
	changed := 0
	box := image.Rectangle{Min: image.Pt(w, h)} // inverted until a pixel changes
	for y := range h {
		row, bg := d.grey[y*w:(y+1)*w], d.background[y*w:(y+1)*w]
		for x, v := range row {
			diff := int32(v)<<8 - bg[x]
			bg[x] += diff >> backgroundShift
			if diff <= limit && -diff <= limit || image.Pt(x, y).In(d.masked) {
				continue
			}
			changed++
			box.Min.X, box.Max.X = min(box.Min.X, x), max(box.Max.X, x+1)
			box.Min.Y, box.Max.Y = min(box.Min.Y, y), max(box.Max.Y, y+1)
		}
	}
	// changed pixels of the copy, in pixels of the full frame, ≥ MinArea
	if changed == 0 || int64(changed)*int64(d.full.Width*d.full.Height) < int64(d.cfg.MinArea)*int64(w*h) {
		return image.Rectangle{}, false
	}
	W, H := d.full.Width, d.full.Height
	return image.Rect(box.Min.X*W/w, box.Min.Y*H/h, (box.Max.X*W+w-1)/w, (box.Max.Y*H+h-1)/h), true
}
