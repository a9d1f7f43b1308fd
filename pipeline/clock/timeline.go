package clock

import "time"

// Timeline ties the stream's media timeline to wall-clock time. PTS 0 is the
// Epoch, and every later PTS p happened at Epoch + p: program date times,
// segment start times and marker times are all derived through it, so they
// agree with each other to the nanosecond.
type Timeline struct {
	// Epoch is the wall-clock time of PTS 0.
	Epoch time.Time
}

// Time returns the wall-clock time of PTS p.
func (tl Timeline) Time(p Ticks) time.Time {
	return tl.Epoch.Add(p.Duration())
}

// PTS returns the PTS of wall-clock time t, rounded down to the tick.
func (tl Timeline) PTS(t time.Time) Ticks {
	return FromDuration(t.Sub(tl.Epoch))
}
