// Package clock holds the generator clock (GEN) and the 90 kHz tick type
// that every timestamp in hlsmark is expressed in.
package clock

import (
	"math"
	"math/big"
	"strconv"
	"time"
)

// Hz is the MPEG-TS system clock rate that PTS values count in.
const Hz = 90000

// Ticks is a media timestamp or duration counted at 90 kHz, the unit of
// MPEG-TS PTS and DTS. It is never a bare float: conversions to and from
// time.Duration and seconds live here, and only here.
type Ticks int64

// FromDuration converts a duration to ticks, rounding toward negative
// infinity (floor). A frame generated d after the epoch therefore gets the
// last tick that is not later than its generation time; this is the single
// rounding rule between the generator clock and every PTS in the stream.
// The multiply is split so that it cannot overflow for any time.Duration.
func FromDuration(d time.Duration) Ticks {
	const ns = int64(time.Second)
	q, r := int64(d)/ns, int64(d)%ns
	t := q*Hz + r*Hz/ns
	if r < 0 && (r*Hz)%ns != 0 {
		t-- // floor, not truncation, for negative remainders
	}
	return Ticks(t)
}

// FromSeconds converts seconds to ticks, rounding to the nearest tick. It is
// for values that come from people (API requests, flags), not from the
// generator clock. It reports false for NaN, infinities and values outside
// the range of Ticks.
func FromSeconds(s float64) (Ticks, bool) {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, false
	}
	v := math.Round(s * Hz)
	if v >= math.MaxInt64 || v <= math.MinInt64 {
		return 0, false
	}
	return Ticks(v), true
}

// Duration converts ticks to a duration. One tick is 11111.1 ns, so the
// result is rounded up to the nanosecond: that way FromDuration, which
// rounds down, gives back the same ticks (FromDuration(t.Duration()) == t),
// and a wall-clock time derived from a PTS maps back to that PTS.
func (t Ticks) Duration() time.Duration {
	const ns = int64(time.Second)
	q, r := int64(t)/Hz, int64(t)%Hz
	sub := r * ns / Hz
	if r > 0 && (r*ns)%Hz != 0 {
		sub++ // ceiling, for the round trip through FromDuration
	}
	return time.Duration(q)*time.Second + time.Duration(sub)
}

// Seconds returns t in seconds, for display and JSON only; never compute
// further timestamps from it.
func (t Ticks) Seconds() float64 {
	return float64(t) / Hz
}

// String formats t as ticks with its value in seconds, for logs.
func (t Ticks) String() string {
	return strconv.FormatInt(int64(t), 10) + " ticks (" + strconv.FormatFloat(t.Seconds(), 'f', 6, 64) + "s)"
}

// Wrap is where MPEG-TS timestamps wrap around: they have 33 bits, so a
// stream's PTS passes through zero every 2^33 ticks, about 26.5 hours.
// hlsmark counts Ticks without wrapping (int64 lasts for millennia) and
// wraps only where a value is shown as a TS timestamp.
const Wrap Ticks = 1 << 33

// TS returns t as the MPEG-TS carries it: modulo 2^33.
func (t Ticks) TS() Ticks {
	return ((t % Wrap) + Wrap) % Wrap
}

// LatestAt returns the latest time, not after limit, whose TS timestamp is
// ts (which must be in [0, Wrap)): the unwrapped PTS a TS timestamp seen in
// a live stream stands for.
func LatestAt(ts, limit Ticks) Ticks {
	k := (limit - ts) / Wrap
	if limit < ts && (limit-ts)%Wrap != 0 {
		k-- // floor division for negative differences
	}
	return ts + k*Wrap
}

// FromTimeBase converts v, a timestamp or duration counted in a stream's
// time base num/den seconds (libav's AVRational), to ticks, rounding toward
// negative infinity (floor), the same rule as FromDuration: a decoded
// frame gets the last tick not later than its own timestamp. Frame steps
// that are whole ticks (1/25 s in 1/12800, 1/30 s in 1/90000) come out
// exact, so a file's frames keep their exact spacing. The product is
// computed without overflow; it reports false if num or den is not
// positive or the result does not fit in Ticks.
func FromTimeBase(v, num, den int64) (Ticks, bool) {
	if num <= 0 || den <= 0 {
		return 0, false
	}
	p := new(big.Int).Mul(big.NewInt(v), big.NewInt(num))
	p.Mul(p, big.NewInt(Hz))
	// Euclidean division by a positive divisor is floor division.
	q := p.Div(p, big.NewInt(den))
	if !q.IsInt64() {
		return 0, false
	}
	return Ticks(q.Int64()), true
}
