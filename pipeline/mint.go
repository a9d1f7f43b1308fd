package pipeline

import (
	"image"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// mintTolerance is how far each channel may be from Mint and still count:
// wide enough for a scaled or lightly compressed picture, far from black,
// white and every grey of the checkerboard.
const mintTolerance = 40

// detectorStep is the spacing, in pixels, of the grid the detector samples
// to find mint: a mint square narrower or shorter than this can be missed.
// A found square's edges are then traced pixel by pixel, so the box is
// exact whatever the step.
const detectorStep = 16

// MintLabel is the label of the events MintDetector sees.
const MintLabel = "mint square"

// MintDetector finds mint squares in frames by their pixels alone: an
// event opens with the first frame showing mint and closes with the first
// frame without it. Its box is the square's in the first frame.
type MintDetector struct {
	open  bool
	start clock.Ticks
}

// NewMintDetector returns a MintDetector, for frames of any size.
func NewMintDetector(media.Size) (Detector, error) { return &MintDetector{}, nil }

// Stop reports the event in progress, if any, as Closed and Cut at end:
// the end of the last frame. Call it when the frames stop for good.
func (d *MintDetector) Stop(end clock.Ticks) (media.Detection, bool) {
	if !d.open {
		return media.Detection{}, false
	}
	d.open = false
	return media.Detection{Kind: media.Closed, Label: MintLabel, Start: d.start, End: max(end, d.start), Cut: true}, true
}

// Inspect looks at one frame and reports whether an event opened or closed
// with it.
func (d *MintDetector) Inspect(f *Frame) (media.Detection, bool) {
	box, seen := findMint(f)
	switch {
	case seen && !d.open:
		d.open, d.start = true, f.PTS
		return media.Detection{Kind: media.Opened, Label: MintLabel, Start: f.PTS, Box: box}, true
	case !seen && d.open:
		d.open = false
		return media.Detection{Kind: media.Closed, Label: MintLabel, Start: d.start, End: f.PTS}, true
	}
	return media.Detection{}, false
}

// Close does nothing: a MintDetector holds no libav memory.
func (d *MintDetector) Close() {}

// findMint samples f on a detectorStep grid. If a sample is mint, it
// returns the bounds of the mint samples, each edge then moved out pixel by
// pixel along the row and the column of the first mint sample to where the
// mint ends: for a mint rectangle, its exact bounds.
func findMint(f *Frame) (image.Rectangle, bool) {
	var box image.Rectangle
	var first image.Point
	seen := false
	stride := f.Size.Width * 3
	for y := 0; y < f.Size.Height; y += detectorStep {
		row := f.BGR[y*stride : (y+1)*stride]
		for i := 0; i+2 < len(row); i += 3 * detectorStep {
			if !isMint(row[i+2], row[i+1], row[i]) {
				continue
			}
			x := i / 3
			if !seen {
				first, seen = image.Pt(x, y), true
				box = image.Rect(x, y, x+1, y+1)
				continue
			}
			box.Min.X, box.Max.X = min(box.Min.X, x), max(box.Max.X, x+1)
			box.Max.Y = y + 1 // rows are scanned top to bottom
		}
	}
	if !seen {
		return box, false
	}
	for box.Min.X > 0 && mintAt(f, box.Min.X-1, first.Y) {
		box.Min.X--
	}
	for box.Max.X < f.Size.Width && mintAt(f, box.Max.X, first.Y) {
		box.Max.X++
	}
	for box.Min.Y > 0 && mintAt(f, first.X, box.Min.Y-1) {
		box.Min.Y--
	}
	for box.Max.Y < f.Size.Height && mintAt(f, first.X, box.Max.Y) {
		box.Max.Y++
	}
	return box, true
}

// mintAt reports whether the pixel at (x, y) is mint.
func mintAt(f *Frame, x, y int) bool {
	i := (y*f.Size.Width + x) * 3
	return isMint(f.BGR[i+2], f.BGR[i+1], f.BGR[i])
}

func isMint(r, g, b byte) bool {
	return near(r, Mint[0]) && near(g, Mint[1]) && near(b, Mint[2])
}

// near reports whether v is within mintTolerance of want, with one
// unsigned comparison.
func near(v, want byte) bool {
	return uint(int(v)-int(want)+mintTolerance) <= 2*mintTolerance
}
