package pipeline

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// keptRun maps the timestamps ts of one run of an input (time base
// 1/90000, 25 fps) whose first pass begins at base, keeping its mapping
// in dir, and returns their PTS.
func keptRun(t *testing.T, dir, input string, floor, base clock.Ticks, ts ...int64) []clock.Ticks {
	t.Helper()
	m := ptsMap{input: input}
	if err := m.keepIn(dir, floor, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if err := m.begin(1, clock.Hz, 25, 1, base); err != nil {
		t.Fatal(err)
	}
	var out []clock.Ticks
	for _, x := range ts {
		p, _, err := m.pts(x, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestKeptMappingAcrossRestarts: a run keeps its mapping in the stream's
// folder; the next run takes it when its input's timestamps ran on (its
// first frame lands within a second of where a new mapping would start),
// so PTS go on from the input's own clock, and does not when the input
// started again, or would go back before the recorded end, or is
// another input.
func TestKeptMappingAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	const origin, base = 5000, 1_000_000
	first := keptRun(t, dir, "udp://a", 0, base, origin, origin+3600, origin+7200)
	if first[0] != base || first[2] != base+7200 {
		t.Fatalf("first run: PTS %v, want from %d, 3600 apart", first, base)
	}
	if _, err := os.Stat(filepath.Join(dir, MappingFile)); err != nil {
		t.Fatalf("the first run kept no mapping: %v", err)
	}

	// The input ran on for 50 frames while the stream restarted; the
	// clock says 7000 ticks later than the input does.
	ranOn := keptRun(t, dir, "udp://a", base+3*3600, base+50*3600+7000, origin+50*3600, origin+51*3600)
	if want := clock.Ticks(base + 50*3600); ranOn[0] != want || ranOn[1] != want+3600 {
		t.Errorf("input that ran on: PTS %v, want the kept mapping's %d, %d", ranOn, want, want+3600)
	}

	// The input started again from its first timestamp: the kept mapping
	// would put it 80 s back; a new mapping starts at the clock.
	const later = base + 80*clock.Hz
	again := keptRun(t, dir, "udp://a", base+52*3600, later, origin)
	if again[0] != later {
		t.Errorf("input that started again: PTS %d, want a new mapping at %d", again[0], later)
	}

	// The kept mapping (now the last run's, at later) would land before
	// the recorded end: refused.
	floor := clock.Ticks(later + 10*3600)
	back := keptRun(t, dir, "udp://a", floor, floor, origin+5*3600)
	if back[0] != floor {
		t.Errorf("kept mapping landing before the recorded end: PTS %d, want a new mapping at %d", back[0], floor)
	}

	// Another input never takes the kept mapping.
	other := keptRun(t, dir, "udp://b", 0, floor+3600, origin+5*3600+3600)
	if other[0] != floor+3600 {
		t.Errorf("another input: PTS %d, want a new mapping at %d", other[0], floor+3600)
	}
}

// TestKeptMappingUnwritable: a mapping that cannot be written (the
// stream's folder gone, a full disk) costs only the next restart's
// continuity: the frames are mapped as ever, and the failure is logged.
func TestKeptMappingUnwritable(t *testing.T) {
	var logged bytes.Buffer
	m := ptsMap{input: "udp://a"}
	if err := m.keepIn(filepath.Join(t.TempDir(), "gone"), 0, slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
		t.Fatal(err)
	}
	if err := m.begin(1, clock.Hz, 25, 1, 1000); err != nil {
		t.Fatal(err)
	}
	for i, ts := range []int64{5000, 8600} {
		p, _, err := m.pts(ts, 0, 0)
		if want := clock.Ticks(1000 + 3600*i); err != nil || p != want {
			t.Fatalf("frame %d: PTS %d (%v), want %d", i, p, err, want)
		}
	}
	if !strings.Contains(logged.String(), "not kept") {
		t.Errorf("the failed write was not logged:\n%s", logged.String())
	}
}
