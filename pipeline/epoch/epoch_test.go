package epoch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/epoch"
)

// casesEpochFile are epoch files as a stream folder may hold them, whether
// segments were recorded, and what Load must do: keep the old epoch, write
// now (saying what it replaced, if anything), or fail leaving the file.
var casesEpochFile = []struct {
	name     string
	file     *string // nil: no file
	recorded bool
	want     string // "old", "new" or "error"
	replaced string
}{
	{"new stream", nil, false, "new", ""},
	{"valid", ptr("2026-11-24T10:00:00.123456789Z\n"), true, "old", ""},
	{"valid without newline", ptr("2026-11-24T10:00:00.123456789Z"), false, "old", ""},
	{"empty after a failed first start", ptr(""), false, "new", "nothing"},
	{"half written", ptr("2026-11-24T10:0"), false, "new", `"2026-11-24T10:0"`},
	{"garbage", ptr("\x00\x00\x00"), false, "new", `"\x00\x00\x00"`},
	{"empty with segments recorded", ptr(""), true, "error", ""},
	{"half written with segments recorded", ptr("2026-11-24T1"), true, "error", ""},
	{"in the future", ptr("2026-11-25T10:00:00Z\n"), true, "error", ""},
}

func ptr(s string) *string { return &s }

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestLoad(t *testing.T) {
	old := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)
	for _, c := range casesEpochFile {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "epoch")
			if c.file != nil {
				if err := os.WriteFile(path, []byte(*c.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := epoch.Load(path, now, time.Time{}, c.recorded)
			after, _ := os.ReadFile(path)
			switch c.want {
			case "error":
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Fatalf("Load = %+v, %v; want an error naming %s", got, err, path)
				}
				if string(after) != *c.file {
					t.Fatalf("a failed Load changed the file to %q", after)
				}
				return
			case "old":
				if err != nil || !got.Epoch.Equal(old) || got.Replaced != "" {
					t.Fatalf("Load = %+v, %v; want epoch %v", got, err, old)
				}
				if string(after) != *c.file {
					t.Fatalf("Load rewrote a valid file to %q", after)
				}
			case "new":
				if err != nil || !got.Epoch.Equal(now) || got.Replaced != c.replaced {
					t.Fatalf("Load = %+v, %v; want epoch now, replaced %q", got, err, c.replaced)
				}
				if string(after) != "2026-11-24T12:00:00Z\n" {
					t.Fatalf("the file holds %q, want now", after)
				}
			}
		})
	}
}

// TestLoadKeepsMonotonic checks that the epoch read back carries the
// monotonic reading of now, so that PTS within a run follow the monotonic
// clock.
func TestLoadKeepsMonotonic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epoch")
	if err := os.WriteFile(path, []byte("2026-01-01T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wall := time.Now()
	got, err := epoch.Load(path, wall, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Epoch.String(), " m=") { // Time.String shows the monotonic reading
		t.Fatalf("epoch %v has no monotonic reading", got.Epoch)
	}
	if !got.Epoch.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("epoch %v", got.Epoch)
	}
}
