package stamp_test

import (
	"errors"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// casesStrip are strips as the layout in the package comment spells them,
// each CRC worked out by polynomial division in GF(2) (by x^8+x^2+x+1 of
// the 33 bits followed by eight zeros), not by the package's shift
// register. web/jstest/stamp.test.js reads the same strings.
var casesStrip = []struct {
	name  string
	pts   clock.Ticks
	cells string
}{
	{"zero", 0, "101000000000000000000000000000000000000000000011"},
	{"0x123456789", 0x123456789, "101010010001101000101011001111000100111111000011"},
	{"last before the wrap", clock.Wrap - 1, "101011111111111111111111111111111111110111100011"},
	{"wraps to the TS value", clock.Wrap + 0x123456789, "101010010001101000101011001111000100111111000011"},
}

// bgr returns a mid-grey BGR24 picture of size s.
func bgr(s media.Size) []byte {
	pic := make([]byte, 3*s.Width*s.Height)
	for i := range pic {
		pic[i] = 128
	}
	return pic
}

// cellsOf reads the cells of a BGR24 picture as 0 and 1 at each cell's
// centre pixel, with the geometry of the package comment.
func cellsOf(pic []byte, s media.Size) string {
	var b strings.Builder
	h := s.Width / stamp.Cells
	for i := range stamp.Cells {
		x := (i*s.Width/stamp.Cells + (i+1)*s.Width/stamp.Cells) / 2
		switch pic[3*(h/2*s.Width+x)] {
		case 0:
			b.WriteByte('0')
		case 255:
			b.WriteByte('1')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func TestDrawLayout(t *testing.T) {
	s := media.Size{Width: 500, Height: 100} // 500/48: cells of 10 and 11 pixels
	for _, c := range casesStrip {
		t.Run(c.name, func(t *testing.T) {
			pic := bgr(s)
			stamp.Draw(pic, s, c.pts)
			if got := cellsOf(pic, s); got != c.cells {
				t.Errorf("cells\n got %s\nwant %s", got, c.cells)
			}
			// The strip is W/Cells rows high; the picture below is untouched.
			below := 3 * (s.Width / stamp.Cells) * s.Width
			for i, v := range pic[below:] {
				if v != 128 {
					t.Fatalf("byte %d below the strip changed to %d", below+i, v)
				}
			}
		})
	}
}

// rgba converts a BGR24 picture to an image with swscale, at size out.
func rgba(t *testing.T, pic []byte, in, out media.Size) *image.RGBA {
	t.Helper()
	img, err := pipeline.ToRGBA(pipeline.BGR24, in, pic, out)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestReadScaled(t *testing.T) {
	in := media.Size{Width: 1280, Height: 720}
	for _, out := range []media.Size{in, {Width: 640, Height: 360}, {Width: 853, Height: 480}, {Width: 1920, Height: 1080}} {
		for _, c := range casesStrip {
			pic := bgr(in)
			stamp.Draw(pic, in, c.pts)
			got, err := stamp.Read(rgba(t, pic, in, out))
			if err != nil || got != c.pts.TS() {
				t.Errorf("%s shown at %s: read %d, %v; want %d", c.name, out, got, err, c.pts.TS())
			}
		}
	}
}

// casesDamage are strips a reader must refuse: a good strip (0x123456789)
// with these cells flipped.
var casesDamage = []struct {
	name  string
	flips []int
}{
	{"one PTS bit", []int{20}},
	{"one check bit", []int{40}},
	{"two PTS bits", []int{5, 30}},
	{"a PTS bit and a check bit", []int{36, 37}},
	{"start guard", []int{1}},
	{"end guard", []int{47}},
}

func TestReadRefusesDamage(t *testing.T) {
	s := media.Size{Width: 640, Height: 360}
	for _, c := range casesDamage {
		t.Run(c.name, func(t *testing.T) {
			pic := bgr(s)
			stamp.Draw(pic, s, 0x123456789)
			for _, i := range c.flips {
				paintCell(pic, s, i, 255-pic[3*(i*s.Width/stamp.Cells+1)])
			}
			if pts, err := stamp.Read(rgba(t, pic, s, s)); !errors.Is(err, stamp.ErrNoStrip) {
				t.Errorf("read %d, %v; want ErrNoStrip", pts, err)
			}
		})
	}
	t.Run("a grey cell", func(t *testing.T) {
		pic := bgr(s)
		stamp.Draw(pic, s, 0x123456789)
		paintCell(pic, s, 10, 128)
		if pts, err := stamp.Read(rgba(t, pic, s, s)); !errors.Is(err, stamp.ErrNoStrip) {
			t.Errorf("read %d, %v; want ErrNoStrip", pts, err)
		}
	})
}

// paintCell paints cell i of a BGR24 picture's strip in grey level v.
func paintCell(pic []byte, s media.Size, i int, v byte) {
	x0, x1, h := i*s.Width/stamp.Cells, (i+1)*s.Width/stamp.Cells, s.Width/stamp.Cells
	for y := range h {
		for x := x0; x < x1; x++ {
			o := 3 * (y*s.Width + x)
			pic[o], pic[o+1], pic[o+2] = v, v, v
		}
	}
}

func TestReadWithoutStrip(t *testing.T) {
	s := media.Size{Width: 1280, Height: 720}
	board, err := pipeline.NewCheckerboard(pipeline.DefaultCheckerboardConfig(s), clock.NewFake(epoch, nil), clock.Timeline{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	f := pipeline.NewFrame(s)
	for range 40 { // the board rolls: a second and more of its positions
		if err := board.Next(t.Context(), f); err != nil {
			t.Fatal(err)
		}
		if pts, err := stamp.Read(rgba(t, f.BGR, s, s)); !errors.Is(err, stamp.ErrNoStrip) {
			t.Fatalf("unstamped checkerboard at %d: read %d, %v; want ErrNoStrip", f.PTS, pts, err)
		}
	}
	white := image.NewGray(image.Rect(0, 0, 640, 360))
	draw.Draw(white, white.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	for _, img := range []image.Image{image.NewGray(image.Rect(0, 0, 640, 360)), white, image.NewGray(image.Rect(0, 0, 10, 10))} {
		if pts, err := stamp.Read(img); !errors.Is(err, stamp.ErrNoStrip) {
			t.Errorf("%T %v: read %d, %v; want ErrNoStrip", img, img.Bounds(), pts, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		s  media.Size
		ok bool
	}{
		{media.Size{Width: 1280, Height: 720}, true},
		{media.Size{Width: stamp.MinWidth, Height: 16}, true},
		{media.Size{Width: stamp.MinWidth - 2, Height: 240}, false},
		{media.Size{Width: 320, Height: 240}, false},
	} {
		if err := stamp.Validate(c.s); (err == nil) != c.ok {
			t.Errorf("Validate(%s) = %v, want ok %v", c.s, err, c.ok)
		}
	}
}

func FuzzDrawRead(f *testing.F) {
	f.Add(int64(0), uint16(640))
	f.Add(int64(clock.Wrap-1), uint16(1280))
	f.Add(int64(-1), uint16(385))
	f.Fuzz(func(t *testing.T, pts int64, width uint16) {
		s := media.Size{Width: max(stamp.MinWidth, int(width)%2000) &^ 1, Height: 64}
		pic := bgr(s)
		stamp.Draw(pic, s, clock.Ticks(pts))
		img := &image.RGBA{Pix: make([]byte, 4*s.Width*s.Height), Stride: 4 * s.Width, Rect: image.Rect(0, 0, s.Width, s.Height)}
		for i := range s.Width * s.Height {
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = pic[3*i+2], pic[3*i+1], pic[3*i], 255
		}
		got, err := stamp.Read(img)
		if want := clock.Ticks(pts).TS(); err != nil || got != want {
			t.Fatalf("%s: read %d, %v; want %d", s, got, err, want)
		}
	})
}

// epoch is the wall-clock time of PTS 0 in these tests.
var epoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
