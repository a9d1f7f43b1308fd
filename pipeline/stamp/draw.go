package stamp

import (
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Draw paints the strip for pts (as the MPEG-TS carries it, modulo 2^33)
// over the top of bgr, a packed BGR24 picture of size s (3×s.Width bytes a
// row). The picture must pass Validate; Draw panics if bgr is too short.
func Draw(bgr []byte, s media.Size, pts clock.Ticks) {
	stride := 3 * s.Width
	for i, white := range bits(pts) {
		var v byte
		if white {
			v = 255
		}
		x0, x1, h := cellSpan(i, s.Width)
		for y := range h {
			row := bgr[y*stride+3*x0 : y*stride+3*x1]
			for j := range row {
				row[j] = v
			}
		}
	}
}
