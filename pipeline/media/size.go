package media

import (
	"fmt"
	"strconv"
	"strings"
)

// Size is a frame size in pixels.
type Size struct {
	Width, Height int
}

// ParseSize parses "WIDTHxHEIGHT". Both must be even (YUV 4:2:0 halves the
// chroma planes) and between 16 and 7680.
func ParseSize(s string) (Size, error) {
	w, h, ok := strings.Cut(s, "x")
	if !ok {
		return Size{}, fmt.Errorf("size %q: want WIDTHxHEIGHT, like 1280x720", s)
	}
	width, err1 := strconv.Atoi(w)
	height, err2 := strconv.Atoi(h)
	if err1 != nil || err2 != nil {
		return Size{}, fmt.Errorf("size %q: want WIDTHxHEIGHT, like 1280x720", s)
	}
	sz := Size{width, height}
	return sz, sz.Validate()
}

// Validate reports whether the size can be encoded.
func (s Size) Validate() error {
	if s.Width < 16 || s.Height < 16 || s.Width > 7680 || s.Height > 7680 {
		return fmt.Errorf("size %s: each side must be from 16 to 7680 pixels", s)
	}
	if s.Width%2 != 0 || s.Height%2 != 0 {
		return fmt.Errorf("size %s: width and height must be even", s)
	}
	return nil
}

// String formats the size as WIDTHxHEIGHT.
func (s Size) String() string {
	return strconv.Itoa(s.Width) + "x" + strconv.Itoa(s.Height)
}
