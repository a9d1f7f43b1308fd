package stream

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/epoch"
	"github.com/hlsmark/hlsmark/playlist"
)

// epochFile keeps a stream's epoch in its folder (see package epoch).
const epochFile = "epoch"

// loadTimeline returns the stream's timeline, reading its epoch from the
// stream folder or, for a new stream, making fresh (or now, if zero) the
// epoch and saving it. Segments were recorded against an existing epoch if
// the playlist's state file is there.
func loadTimeline(dir string, clk clock.Clock, fresh time.Time, log *slog.Logger) (clock.Timeline, error) {
	_, err := os.Stat(filepath.Join(dir, playlist.StateFile))
	e, err := epoch.Load(filepath.Join(dir, epochFile), clk.Now(), fresh, err == nil)
	if err != nil {
		return clock.Timeline{}, err
	}
	if e.Replaced != "" {
		log.Warn("epoch file held no time, left by a first start that failed; starting the stream's timeline now",
			"stream", filepath.Base(dir), "held", e.Replaced)
	}
	return clock.Timeline{Epoch: e.Epoch}, nil
}

// SeedEpoch gives the stream folder dir the epoch e if it has none yet, as
// a server taking a stream over from another does with the epoch the
// stream was published with: its PTS then go on from the other's, and the
// markers both stored keep their times. It returns the folder's epoch,
// e unless the folder had one of its own, which it keeps.
func SeedEpoch(dir string, e time.Time) (time.Time, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return time.Time{}, err
	}
	now := time.Now()
	l, err := epoch.Load(filepath.Join(dir, epochFile), now, e, false)
	if err != nil {
		return time.Time{}, err
	}
	return l.Epoch, nil
}
