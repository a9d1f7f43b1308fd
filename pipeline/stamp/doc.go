// Package stamp draws a frame's PTS into the picture as a machine-readable
// strip, and reads it back: the glass-to-glass measurement (`hlsmark serve
// --stamp`) compares the PTS a viewer's screen shows with the wall clock.
//
// The strip is a row of Cells square cells across the whole width of the
// top of the picture, each black (0) or white (1):
//
//	cells  0-3   start guard 1010
//	cells  4-36  the PTS as the MPEG-TS carries it (modulo 2^33), most significant bit first
//	cells 37-44  CRC-8 of those 33 bits (polynomial x^8+x^2+x+1, initial value 0), most significant bit first
//	cells 45-47  end guard 011
//
// Cell i spans x from i*W/Cells to (i+1)*W/Cells (integer division) and y
// from 0 to W/Cells, for a picture W pixels wide. Since the strip is laid
// out in fractions of the width, a picture scaled with its aspect ratio
// kept (as a player shows it) is read the same way. A reader looks at the
// middle half of each cell, and refuses a cell that is neither clearly dark
// nor clearly light, a guard that does not match, or a CRC that does not
// check: a strip misread is reported as unreadable, not read as another
// PTS. The JavaScript reader in web/static/js/stamp.js follows the same
// layout.
package stamp
