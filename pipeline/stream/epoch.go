package stream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// epochFile keeps a stream's epoch, the wall-clock time of PTS 0, so that
// after a restart PTS keep counting from it: program date times stay true,
// and the markers and segments of earlier runs keep their places.
const epochFile = "epoch"

// loadTimeline returns the stream's timeline, reading its epoch from the
// stream folder or, for a new stream, making epoch (or now, if epoch is
// zero) the epoch and saving it. The epoch returned carries clk's monotonic
// reading, so within a run PTS follow the monotonic clock, not wall-clock
// steps.
func loadTimeline(dir string, clk clock.Clock, epoch time.Time) (clock.Timeline, error) {
	now := clk.Now()
	path := filepath.Join(dir, epochFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if epoch.IsZero() {
			epoch = now
		}
		err = os.WriteFile(path, []byte(epoch.UTC().Format(time.RFC3339Nano)+"\n"), 0o644)
		b = nil
	}
	if err != nil {
		return clock.Timeline{}, err
	}
	if b != nil {
		if epoch, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err != nil {
			return clock.Timeline{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	if epoch.After(now) {
		return clock.Timeline{}, fmt.Errorf("%s: epoch %s is in the future (clock stepped back?)", path, epoch)
	}
	return clock.Timeline{Epoch: now.Add(-now.Sub(epoch))}, nil
}
