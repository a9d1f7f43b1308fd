package pipeline

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// casesConvert are the pictures the RGB to YUV420P conversion is checked on:
// widths that are and are not a multiple of swscale's SIMD widths.
var casesConvert = []struct {
	name string
	size media.Size
}{
	{"tiny", media.Size{Width: 2, Height: 2}},
	{"narrow", media.Size{Width: 14, Height: 6}},
	{"odd multiple of 2", media.Size{Width: 50, Height: 26}},
	{"640x480", media.Size{Width: 640, Height: 480}},
}

// planes returns the packed Y, U and V planes of a converted frame.
func planes(t *testing.T, f *Frame) (y, u, v []byte) {
	t.Helper()
	b, err := f.yuv.av.Data().Bytes(1)
	if err != nil {
		t.Fatal(err)
	}
	n := f.Size.Width * f.Size.Height
	return b[:n], b[n : n+n/4], b[n+n/4 : n+n/2]
}

// block is the side of the squares of one colour in randomFrame.
const block = 8

// randomFrame fills a frame with squares of random colours, block pixels
// a side: swscale filters chroma over neighbouring pixels, so chroma is
// checked where that neighbourhood is one colour, and luma everywhere.
func randomFrame(s media.Size, seed uint64) *Frame {
	f := NewFrame(s)
	rng := rand.New(rand.NewPCG(seed, 0))
	colours := map[[2]int][3]byte{}
	for y := range s.Height {
		for x := range s.Width {
			k := [2]int{x / block, y / block}
			c, ok := colours[k]
			if !ok {
				c = [3]byte{byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256))}
				colours[k] = c
			}
			copy(f.BGR[3*(y*s.Width+x):], c[:])
		}
	}
	return f
}

// inside reports whether a chroma sample at i (covering pixels 2i and
// 2i+1) has one colour from 2i-2 to 2i+3.
func inside(i, n int) bool {
	return 2*i-2 >= 0 && 2*i+3 < n && (2*i-2)/block == (2*i+3)/block
}

// TestConvertMatchesBT601 checks the samples against BT.601 limited range
// computed in floating point: every luma less than 2 steps off (swscale's
// unscaled path truncates), chroma within 2.
func TestConvertMatchesBT601(t *testing.T) {
	for _, c := range casesConvert {
		t.Run(c.name, func(t *testing.T) {
			f := randomFrame(c.size, 1)
			defer f.Free()
			if err := f.Convert(); err != nil {
				t.Fatal(err)
			}
			y, u, v := planes(t, f)
			w, h := c.size.Width, c.size.Height
			px := func(x, y int) (r, g, b float64) {
				i := 3 * (y*w + x)
				return float64(f.BGR[i+2]), float64(f.BGR[i+1]), float64(f.BGR[i]) // BGR
			}
			for j := range h {
				for i := range w {
					r, g, b := px(i, j)
					want := 16 + 219*(0.299*r+0.587*g+0.114*b)/255
					if d := math.Abs(float64(y[j*w+i]) - want); d >= 2 {
						t.Fatalf("Y(%d,%d) = %d, want %.2f", i, j, y[j*w+i], want)
					}
				}
			}
			checked := 0
			for j := range h / 2 {
				for i := range w / 2 {
					if !inside(i, w) || !inside(j, h) {
						continue
					}
					checked++
					var r, g, b float64
					for _, p := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
						pr, pg, pb := px(2*i+p[0], 2*j+p[1])
						r, g, b = r+pr/4, g+pg/4, b+pb/4
					}
					wantU := 128 + 224*(-0.168736*r-0.331264*g+0.5*b)/255
					wantV := 128 + 224*(0.5*r-0.418688*g-0.081312*b)/255
					k := j*w/2 + i
					if math.Abs(float64(u[k])-wantU) > 2 || math.Abs(float64(v[k])-wantV) > 2 {
						t.Fatalf("UV(%d,%d) = %d,%d, want %.2f,%.2f", i, j, u[k], v[k], wantU, wantV)
					}
				}
			}
			if w >= 3*block && h >= 3*block && checked == 0 {
				t.Fatal("no chroma sample checked")
			}
		})
	}
}

// TestEncodeTakesConvertedPictureOnce checks the handover between Convert
// and Encode: a converted picture is used once, for the PTS it was made at.
func TestEncodeTakesConvertedPictureOnce(t *testing.T) {
	f := randomFrame(media.Size{Width: 64, Height: 48}, 3)
	defer f.Free()
	if f.converted() != nil {
		t.Fatal("a frame never converted has a picture")
	}
	if err := f.Convert(); err != nil {
		t.Fatal(err)
	}
	if f.converted() == nil {
		t.Fatal("no picture after Convert")
	}
	f.PTS++
	if f.converted() != nil {
		t.Fatal("picture kept after the frame's PTS changed")
	}
	f.PTS--
	enc, err := NewEncoder(EncoderConfig{Size: f.Size, FPS: 30, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if err := enc.Encode(f, func(media.Packet) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if f.converted() != nil {
		t.Fatal("picture still fresh after Encode took it")
	}
}
