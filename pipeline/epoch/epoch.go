// Package epoch keeps a stream's epoch, the wall-clock time of PTS 0, in a
// file of the stream folder, so that a restarted server counts PTS from
// where the last run did: program date times stay true, and the markers
// and segments of earlier runs keep their places.
package epoch

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/durable"
)

// Loaded is what Load found.
type Loaded struct {
	// Epoch carries the monotonic clock reading of the now given to Load,
	// so that within a run PTS follow the monotonic clock, not wall-clock
	// steps.
	Epoch time.Time
	// Replaced is set when the file held no epoch (empty, or written in
	// part by a first start that failed before the write completed) and
	// Load wrote now in its place: it says what the file held.
	Replaced string
}

// Load reads the epoch in the file at path. A missing file is a new
// stream: fresh (or now, if fresh is zero) becomes its epoch, written
// durably. So does a file that holds no epoch, as long as recorded is
// false (nothing was recorded against the old epoch, as when the first
// start failed); with recorded true such a file is an error, since a new
// epoch would move everything recorded. An epoch after now is an error
// too: the clock stepped back.
func Load(path string, now, fresh time.Time, recorded bool) (Loaded, error) {
	if fresh.IsZero() {
		fresh = now
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return create(path, now, fresh, "")
	}
	if err != nil {
		return Loaded{}, fmt.Errorf("epoch: %w", err)
	}
	text := strings.TrimSpace(string(b))
	e, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		held := fmt.Sprintf("%q", b)
		if len(b) == 0 {
			held = "nothing"
		}
		if recorded {
			return Loaded{}, fmt.Errorf("epoch: %s holds %s, not a time, and segments were recorded against the lost epoch: restore the file or remove the stream folder", path, held)
		}
		return create(path, now, fresh, held)
	}
	if e.After(now) {
		return Loaded{}, fmt.Errorf("epoch: %s: epoch %s is in the future (clock stepped back?)", path, e)
	}
	return Loaded{Epoch: now.Add(-now.Sub(e))}, nil
}

// create writes fresh as the epoch; now is the clock's reading.
func create(path string, now, fresh time.Time, replaced string) (Loaded, error) {
	if fresh.After(now) {
		return Loaded{}, fmt.Errorf("epoch: new epoch %s is in the future", fresh)
	}
	if err := durable.WriteFile(path, []byte(fresh.UTC().Format(time.RFC3339Nano)+"\n"), 0o644); err != nil {
		return Loaded{}, fmt.Errorf("epoch: %w", err)
	}
	return Loaded{Epoch: now.Add(-now.Sub(fresh)), Replaced: replaced}, nil
}
