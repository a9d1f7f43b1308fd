package pipeline

import (
	"math"
	"math/rand/v2"
	"testing"
)

// casesConvert are the pictures the RGB to YUV420P conversion is checked on:
// widths that are and are not a multiple of the 16 pixels the SSSE3 code
// takes at a time.
var casesConvert = []struct {
	name string
	size Size
}{
	{"tiny", Size{2, 2}},
	{"under one vector", Size{14, 6}},
	{"vector plus tail", Size{50, 20}},
	{"640x480", Size{640, 480}},
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

func randomFrame(s Size, seed uint64) *Frame {
	f := NewFrame(s)
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range f.RGB {
		f.RGB[i] = byte(rng.UintN(256))
	}
	return f
}

// TestConvertMatchesBT601 checks every sample against BT.601 limited range
// computed in floating point: luma within 1, chroma (from the mean of each
// 2x2 block) within 2.
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
				return float64(f.RGB[i]), float64(f.RGB[i+1]), float64(f.RGB[i+2])
			}
			for j := range h {
				for i := range w {
					r, g, b := px(i, j)
					want := 16 + 219*(0.299*r+0.587*g+0.114*b)/255
					if d := math.Abs(float64(y[j*w+i]) - want); d > 1 {
						t.Fatalf("Y(%d,%d) = %d, want %.2f", i, j, y[j*w+i], want)
					}
				}
			}
			for j := range h / 2 {
				for i := range w / 2 {
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
		})
	}
}

// TestConvertSIMDEqualsScalar requires the SSSE3 and the scalar conversion
// to agree bit for bit.
func TestConvertSIMDEqualsScalar(t *testing.T) {
	defer func(old bool) { useSIMD = old }(useSIMD)
	for _, c := range casesConvert {
		t.Run(c.name, func(t *testing.T) {
			fast, slow := randomFrame(c.size, 2), randomFrame(c.size, 2)
			defer fast.Free()
			defer slow.Free()
			useSIMD = true
			if err := fast.Convert(); err != nil {
				t.Fatal(err)
			}
			useSIMD = false
			if err := slow.Convert(); err != nil {
				t.Fatal(err)
			}
			fy, fu, fv := planes(t, fast)
			sy, su, sv := planes(t, slow)
			for _, p := range []struct {
				name       string
				fast, slow []byte
			}{{"Y", fy, sy}, {"U", fu, su}, {"V", fv, sv}} {
				for i := range p.fast {
					if p.fast[i] != p.slow[i] {
						t.Fatalf("%s[%d]: SSSE3 %d, scalar %d", p.name, i, p.fast[i], p.slow[i])
					}
				}
			}
		})
	}
}

// TestEncodeTakesConvertedPictureOnce checks the handover between Convert
// and Encode: a converted picture is used once, for the PTS it was made at.
func TestEncodeTakesConvertedPictureOnce(t *testing.T) {
	f := randomFrame(Size{64, 48}, 3)
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
	if err := enc.Encode(f, func(Packet) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if f.converted() != nil {
		t.Fatal("picture still fresh after Encode took it")
	}
}
