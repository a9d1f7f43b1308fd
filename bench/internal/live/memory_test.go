package live

import (
	"math"
	"testing"
)

var casesSlope = []struct {
	name    string
	samples []Sample
	want    float64
}{
	{"none", nil, 0},
	{"one", []Sample{{60, 100}}, 0},
	{"flat", []Sample{{60, 100}, {65, 100}, {70, 100}}, 0},
	// 2 MB a minute, read off the first and last samples by hand.
	{"rising", []Sample{{60, 100}, {90, 101}, {120, 102}}, 2.0 / 60},
	// Scattered around a line falling 1 MB every 10 s: the misses (+1,
	// -1, -1, +1) cancel out in the least-squares fit.
	{"noisy", []Sample{{0, 51}, {10, 48}, {20, 47}, {30, 48}}, -0.1},
}

func TestSlope(t *testing.T) {
	for _, c := range casesSlope {
		t.Run(c.name, func(t *testing.T) {
			if got := Slope(c.samples); math.Abs(got-c.want) > 1e-9 {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
