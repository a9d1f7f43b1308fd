package stream

import (
	"errors"
	"testing"
)

// TestJudge: a failed source outranks everything, an ended playlist what
// ended it, a reconnecting input the stall it causes; a stream listing
// nothing yet is starting unless it stalled.
func TestJudge(t *testing.T) {
	refused, bad := errors.New("connection refused"), errors.New("bad data")
	for _, c := range []struct {
		name          string
		c             conditions
		state, reason string
	}{
		{"live", conditions{listed: true}, Live, ""},
		{"starting", conditions{}, Starting, ""},
		{"stalled", conditions{stalled: true, why: "no frame", listed: true}, Stalled, "no frame"},
		{"stalled before a first segment", conditions{stalled: true, why: "no frame"}, Stalled, "no frame"},
		{"reconnecting", conditions{lost: refused, listed: true}, Reconnecting, "connection refused"},
		{"reconnecting and stalled", conditions{lost: refused, stalled: true, why: "no frame", listed: true}, Reconnecting, "connection refused"},
		{"ended", conditions{ended: true, stalled: true, why: "no frame", listed: true}, Ended, ""},
		{"failed", conditions{failed: bad, ended: true, lost: refused, stalled: true, why: "no frame"}, Failed, "bad data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if state, reason := judge(c.c); state != c.state || reason != c.reason {
				t.Errorf("judge(%+v) = %q, %q; want %q, %q", c.c, state, reason, c.state, c.reason)
			}
		})
	}
}
