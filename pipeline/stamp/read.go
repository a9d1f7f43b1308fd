package stamp

import (
	"image"
	"image/color"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Levels a cell's mean luma (0-255) must be at or below to be black, or at
// or above to be white; between them, the strip is unreadable.
const (
	darkMax  = 85
	lightMin = 170
)

// Read returns the PTS (modulo 2^33) of the strip at the top of img, or
// ErrNoStrip. img may be scaled from the picture the strip was drawn on,
// its aspect ratio kept.
func Read(img image.Image) (clock.Ticks, error) {
	b := img.Bounds()
	w := b.Dx()
	if w < Cells || b.Dy() < w/Cells {
		return 0, ErrNoStrip
	}
	cells := make([]bool, Cells)
	for i := range cells {
		x0, x1, h := cellSpan(i, w)
		mean := meanLuma(img, image.Rect(b.Min.X+x0+(x1-x0)/4, b.Min.Y+h/4, b.Min.X+x1-(x1-x0)/4, b.Min.Y+h-h/4))
		switch {
		case mean <= darkMax:
		case mean >= lightMin:
			cells[i] = true
		default:
			return 0, ErrNoStrip
		}
	}
	return decode(cells)
}

// meanLuma returns the mean luma of the pixels in r (at least one).
func meanLuma(img image.Image, r image.Rectangle) int {
	if r.Empty() {
		r.Max = r.Min.Add(image.Pt(1, 1))
	}
	sum, n := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += int(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
			n++
		}
	}
	return sum / n
}
