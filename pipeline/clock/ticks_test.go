package clock

import (
	"math"
	"math/big"
	"testing"
	"time"
)

var casesTicks = []struct {
	name string
	d    time.Duration
	t    Ticks
}{
	{"zero", 0, 0},
	{"one second", time.Second, Hz},
	{"one tick is 11111.1ns", 11112 * time.Nanosecond, 1},
	{"just under one tick", 11111 * time.Nanosecond, 0},
	{"a frame at 25 fps", time.Second / 25, 3600},
	{"30 fps in whole ns floors below 3000", time.Second / 30, 2999},
	{"floors, not rounds", 22222 * time.Nanosecond, 1},
	{"negative floors down", -time.Nanosecond, -1},
	{"a year", 365 * 24 * time.Hour, 365 * 24 * 3600 * Hz},
	{"the largest duration does not overflow", math.MaxInt64, Ticks(int64(math.MaxInt64)/1e9*Hz + int64(math.MaxInt64)%1e9*Hz/1e9)},
}

func TestFromDuration(t *testing.T) {
	for _, c := range casesTicks {
		t.Run(c.name, func(t *testing.T) {
			if got := FromDuration(c.d); got != c.t {
				t.Errorf("FromDuration(%d) = %d, want %d", c.d, got, c.t)
			}
		})
	}
}

// FuzzTicksRoundTrip checks that PTS → duration → PTS is the identity, so
// a wall-clock time computed from a PTS maps back to the same PTS.
func FuzzTicksRoundTrip(f *testing.F) {
	for _, s := range []int64{0, 1, 2, 3000, 89999, 90001, -1, -90001, 1 << 33, 1<<40 + 7} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if n > math.MaxInt64/1_000_000 || n < math.MinInt64/1_000_000 {
			return // beyond time.Duration's range (about 292 years)
		}
		tk := Ticks(n)
		if got := FromDuration(tk.Duration()); got != tk {
			t.Fatalf("FromDuration(%d.Duration() = %d) = %d", n, tk.Duration(), got)
		}
		tl := Timeline{Epoch: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
		if got := tl.PTS(tl.Time(tk)); got != tk {
			t.Fatalf("Timeline round trip of %d gave %d", n, got)
		}
	})
}

func TestFromSeconds(t *testing.T) {
	for _, c := range []struct {
		s    float64
		want Ticks
		ok   bool
	}{
		{1.5, 135000, true}, {0, 0, true}, {math.NaN(), 0, false}, {math.Inf(1), 0, false}, {1e300, 0, false},
	} {
		got, ok := FromSeconds(c.s)
		if got != c.want || ok != c.ok {
			t.Errorf("FromSeconds(%v) = %d, %v; want %d, %v", c.s, got, ok, c.want, c.ok)
		}
	}
}

func TestFakeClockJitter(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start, func() time.Duration { return 3 * time.Millisecond })
	if err := f.WaitUntil(t.Context(), start.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := f.Now().Sub(start); got != time.Second+3*time.Millisecond {
		t.Fatalf("after WaitUntil(+1s) the fake reads +%v, want +1.003s", got)
	}
	if err := f.WaitUntil(t.Context(), start); err != nil { // in the past: no going back
		t.Fatal(err)
	}
	if got := f.Now().Sub(start); got != time.Second+6*time.Millisecond {
		t.Fatalf("fake went to +%v", got)
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct{ t, ts Ticks }{
		{0, 0}, {Wrap - 1, Wrap - 1}, {Wrap, 0}, {Wrap + 5, 5}, {3*Wrap + 7, 7}, {-1, Wrap - 1},
	} {
		if got := c.t.TS(); got != c.ts {
			t.Errorf("Ticks(%d).TS() = %d, want %d", c.t, got, c.ts)
		}
	}
	for _, c := range []struct{ ts, limit, want Ticks }{
		{5, Wrap + 10, Wrap + 5},          // just after the wrap
		{Wrap - 5, Wrap + 10, Wrap - 5},   // just before it
		{20, Wrap + 10, 20},               // a whole wrap back: the latest not after limit
		{10, 10, 10},                      // limit itself
		{7, 3, 7 - Wrap},                  // before the epoch's first wrap
		{123, 5*Wrap + 200, 5*Wrap + 123}, // many wraps in
	} {
		if got := LatestAt(c.ts, c.limit); got != c.want {
			t.Errorf("LatestAt(%d, %d) = %d, want %d", c.ts, c.limit, got, c.want)
		}
	}
}

// casesTimeBase are stream time bases libav demuxers use, with timestamps
// whose tick values are known by hand.
var casesTimeBase = []struct {
	name     string
	v        int64
	num, den int64
	want     Ticks
	ok       bool
}{
	{"MPEG-TS is already in ticks", 123456789, 1, 90000, 123456789, true},
	{"a 25 fps MP4 frame (1/12800)", 512, 1, 12800, 3600, true},
	{"a 30 fps MKV frame in ms floors", 33, 1, 1000, 2970, true},
	{"one tick's worth of a 1/1000000 base", 11, 1, 1000000, 0, true},
	{"just past one tick", 12, 1, 1000000, 1, true},
	{"frame numbers at 30000/1001", 1, 1001, 30000, 3003, true},
	{"negative floors down", -1, 1, 12800, -8, true},
	{"a huge base does not overflow the product", 1 << 40, 1 << 30, 1 << 31, Ticks(1<<39) * Hz, true},
	{"a result past int64", math.MaxInt64, 1, 1, 0, false},
	{"a zero denominator", 5, 1, 0, 0, false},
	{"a negative numerator", 5, -1, 25, 0, false},
}

func TestFromTimeBase(t *testing.T) {
	for _, c := range casesTimeBase {
		t.Run(c.name, func(t *testing.T) {
			got, ok := FromTimeBase(c.v, c.num, c.den)
			if got != c.want || ok != c.ok {
				t.Fatalf("FromTimeBase(%d, %d/%d) = %d, %v; want %d, %v", c.v, c.num, c.den, got, ok, c.want, c.ok)
			}
		})
	}
}

// FuzzFromTimeBase checks the rounding rule as a property: the result is
// the floor, t/Hz ≤ v·num/den < (t+1)/Hz, compared by cross-multiplying,
// and it never decreases as v grows.
func FuzzFromTimeBase(f *testing.F) {
	for _, c := range casesTimeBase {
		f.Add(c.v, c.num, c.den)
	}
	f.Fuzz(func(t *testing.T, v, num, den int64) {
		got, ok := FromTimeBase(v, num, den)
		if num <= 0 || den <= 0 {
			if ok {
				t.Fatalf("FromTimeBase(%d, %d/%d) accepted a bad time base", v, num, den)
			}
			return
		}
		if !ok {
			return // out of range
		}
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(v), big.NewInt(num)), big.NewInt(den))
		lo := new(big.Rat).SetFrac(big.NewInt(int64(got)), big.NewInt(Hz))
		hi := new(big.Rat).SetFrac(new(big.Int).Add(big.NewInt(int64(got)), big.NewInt(1)), big.NewInt(Hz))
		if lo.Cmp(exact) > 0 || exact.Cmp(hi) >= 0 {
			t.Fatalf("FromTimeBase(%d, %d/%d) = %d: %s s is not in [%s, %s)", v, num, den, got, exact.FloatString(9), lo.FloatString(9), hi.FloatString(9))
		}
		if v < math.MaxInt64 {
			if next, ok := FromTimeBase(v+1, num, den); ok && next < got {
				t.Fatalf("FromTimeBase went back: %d at %d, %d at %d", got, v, next, v+1)
			}
		}
	})
}
