package stamp

import (
	"errors"
	"fmt"
	"image"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Cells is how many cells the strip has across the picture's width.
const Cells = 48

// MinCell is the narrowest cell drawn, in pixels: narrower, H.264 at
// veryfast and a player's scaling blur neighbouring cells together.
const MinCell = 8

// MinWidth is the narrowest picture a strip is drawn on.
const MinWidth = Cells * MinCell

// ptsBits is how many bits of the PTS the strip carries: the MPEG-TS's 33.
const ptsBits = 33

// The strip's fields, as runs of cells.
var (
	startGuard = []bool{true, false, true, false}
	endGuard   = []bool{false, true, true}
)

// crcBits is the width of the check on the PTS bits.
const crcBits = 8

// ErrNoStrip is the error of a picture in which no strip can be read: none
// was drawn, or it was damaged (its guards, a cell's level or its check do
// not hold).
var ErrNoStrip = errors.New("stamp: no readable strip")

// Validate reports whether a strip fits on a picture of size s.
func Validate(s media.Size) error {
	if s.Width < MinWidth || s.Height < s.Width/Cells {
		return fmt.Errorf("stamp: a %s picture is too small for the strip: it needs at least %d pixels across (%d cells of %d)", s, MinWidth, Cells, MinCell)
	}
	return nil
}

// bits returns the strip's cells for pts, left to right.
func bits(pts clock.Ticks) []bool {
	v := uint64(pts.TS())
	out := append([]bool(nil), startGuard...)
	for i := ptsBits - 1; i >= 0; i-- {
		out = append(out, v>>i&1 == 1)
	}
	c := crc8(out[len(startGuard):])
	for i := crcBits - 1; i >= 0; i-- {
		out = append(out, c>>i&1 == 1)
	}
	return append(out, endGuard...)
}

// decode returns the PTS the cells of a strip carry, or ErrNoStrip.
func decode(cells []bool) (clock.Ticks, error) {
	if len(cells) != Cells || !equal(cells[:len(startGuard)], startGuard) || !equal(cells[Cells-len(endGuard):], endGuard) {
		return 0, ErrNoStrip
	}
	data := cells[len(startGuard) : len(startGuard)+ptsBits]
	check := cells[len(startGuard)+ptsBits : len(startGuard)+ptsBits+crcBits]
	var v uint64
	for _, b := range data {
		v <<= 1
		if b {
			v |= 1
		}
	}
	var c byte
	for _, b := range check {
		c <<= 1
		if b {
			c |= 1
		}
	}
	if c != crc8(data) {
		return 0, ErrNoStrip
	}
	return clock.Ticks(v), nil
}

// crc8 returns the CRC-8 (polynomial 0x07, initial value 0, no reflection)
// of a sequence of bits. Its factor x+1 catches every odd number of
// flipped cells, and it catches every pair in a message this short.
func crc8(bits []bool) byte {
	var c byte
	for _, b := range bits {
		top := c&0x80 != 0
		c <<= 1
		if top != b {
			c ^= 0x07
		}
	}
	return c
}

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Bounds returns the part of a picture of size s the strip covers: the
// top rows, across the whole width.
func Bounds(s media.Size) image.Rectangle {
	_, _, h := cellSpan(0, s.Width)
	return image.Rect(0, 0, s.Width, h)
}

// cellSpan returns cell i's columns [x0, x1) in a picture w pixels wide,
// and the strip's height.
func cellSpan(i, w int) (x0, x1, h int) {
	return i * w / Cells, (i + 1) * w / Cells, w / Cells
}
