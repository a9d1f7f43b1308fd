package playlist_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// restoreConfig is the configuration of the playlists restored below: a
// window of four seconds, over which uneven segments slide.
func restoreConfig(dir string) playlist.Config {
	return playlist.Config{Dir: dir, Window: 4 * time.Second, Grace: time.Hour, Target: time.Second}
}

// writeRun adds segments of the given durations (ticks), each with its
// own frame count, the second one discontinuous, and returns them all.
func writeRun(t *testing.T, p *playlist.Playlist, mk *segmentMaker, durs ...clock.Ticks) []media.Segment {
	t.Helper()
	var out []media.Segment
	for i, d := range durs {
		s := mk.makeTicks(d)
		s.Frames = 20 + i
		s.Discontinuity = i == 1
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	flush(t, p)
	return out
}

// restore opens the folder again, as a restarted server does.
func restore(t *testing.T, cfg playlist.Config) *playlist.Playlist {
	t.Helper()
	p, err := playlist.New(cfg)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	t.Cleanup(func() { _ = p.Flush() })
	return p
}

// TestRestoreWindow writes a playlist with a 3 s target whose window slid
// past a discontinuity and lists date ranges (one of them augmented with
// its duration, one whose start segment left), then opens the folder
// again: the window comes back exactly (sequence numbers, PTS, durations,
// start times, sizes, frame counts, flags), with the same target,
// DISCONTINUITY-SEQUENCE and date range tags, so the restored playlist is
// the same file byte for byte; even with a smaller target configured,
// since EXT-X-TARGETDURATION must not change.
func TestRestoreWindow(t *testing.T) {
	cfg := restoreConfig(t.TempDir())
	cfg.Target = 2500 * time.Millisecond
	p, mk := newPlaylist(t, cfg)
	segs := writeRun(t, p, mk, oddSecond, 90000)
	setRanges(t, p, playlist.DateRange{ID: "spans", Start: segs[1].Start.Add(time.Millisecond), Open: true, Label: "open"})
	add(t, p, mk.makeTicks(2*oddSecond+7), mk.makeTicks(45000))
	setRanges(t, p, playlist.DateRange{ID: "spans", Start: segs[1].Start.Add(time.Millisecond), Duration: 4 * time.Second, Label: "open"},
		playlist.DateRange{ID: "open", Start: segs[1].Start.Add(time.Second), Open: true, Label: "still showing"})
	add(t, p, mk.makeTicks(60000), mk.makeTicks(3*clock.Hz-1), mk.makeTicks(89999))
	before := p.Segments()
	if before[0].Seq < 2 || p.TargetDuration() != 3*time.Second || bytes.Count(p.Encoded(), []byte("#EXT-X-DATERANGE:")) != 3 {
		t.Fatalf("window from %d, target %v: the run does not slide past the discontinuity and segment 1, or lost its ranges:\n%s",
			before[0].Seq, p.TargetDuration(), p.Encoded())
	}
	for _, c := range []struct {
		name   string
		target time.Duration
	}{{"same configuration", cfg.Target}, {"smaller target", 500 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := cfg
			cfg.Target = c.target
			again := restore(t, cfg)
			if got := again.Segments(); !equalSegments(got, before) {
				t.Fatalf("restored window\n%+v\nwant\n%+v", got, before)
			}
			if again.NextSeq() != p.NextSeq() || again.TargetDuration() != p.TargetDuration() {
				t.Errorf("NextSeq %d, target %v; want %d, %v", again.NextSeq(), again.TargetDuration(), p.NextSeq(), p.TargetDuration())
			}
			if !bytes.Equal(again.Encoded(), p.Encoded()) {
				t.Errorf("restored playlist differs:\n%s\n--- want ---\n%s", again.Encoded(), p.Encoded())
			}
			media, _ := decodeStrict(t, again.Encoded())
			if media.DiscontinuitySeq != 1 {
				t.Errorf("DISCONTINUITY-SEQUENCE %d, want 1 (the discontinuity left the window before the restart)", media.DiscontinuitySeq)
			}
			for _, s := range before {
				if pos, ok := again.Locate(s.FirstPTS + s.Duration - 1); !ok || pos.Seq != s.Seq || pos.Offset != s.Duration-1 {
					t.Errorf("Locate of the last tick of %s: %+v %v", s.Name(), pos, ok)
				}
			}
		})
	}
}

// casesRestoreDamage are segment files damaged while the server was down,
// by their index in the window of six, and the window that must come back:
// the segments after the last damaged one, since listed sequence numbers
// are consecutive.
var casesRestoreDamage = []struct {
	name    string
	damaged []int
	damage  func(path string) error
	keep    int // index of the first segment kept
}{
	{"missing in the middle", []int{2}, os.Remove, 3},
	{"truncated in the middle", []int{2}, truncateByOne, 3},
	{"emptied in the middle", []int{3}, func(path string) error { return os.Truncate(path, 0) }, 4},
	{"grown in the middle", []int{2}, appendByte, 3},
	{"first missing", []int{0}, os.Remove, 1},
	{"two gaps", []int{1, 3}, os.Remove, 4},
	{"last truncated", []int{5}, truncateByOne, 6},
	{"all missing", []int{0, 1, 2, 3, 4, 5}, os.Remove, 6},
}

func truncateByOne(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.Truncate(path, fi.Size()-1)
}

func appendByte(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write([]byte{0})
	return err
}

// TestRestoreDropsDamagedSegments damages segment files of a written
// playlist and opens the folder again: the damaged segment and every one
// before it are dropped, the rest listed as they were. The numbering goes
// on after the last segment the state knew, even when none is kept, so no
// sequence number (and no segment URL, cached for a year) is used twice.
func TestRestoreDropsDamagedSegments(t *testing.T) {
	for _, c := range casesRestoreDamage {
		t.Run(c.name, func(t *testing.T) {
			cfg := restoreConfig(t.TempDir())
			cfg.Window = time.Hour
			p, mk := newPlaylist(t, cfg)
			mk.next = 40
			segs := writeRun(t, p, mk, 90000, 90000, 90001, 90000, 89999, 90000)
			for _, i := range c.damaged {
				if err := c.damage(segs[i].Path); err != nil {
					t.Fatal(err)
				}
			}
			again := restore(t, cfg)
			want := segs[c.keep:]
			if got := again.Segments(); !equalSegments(got, want) {
				t.Fatalf("restored window %+v, want %+v", got, want)
			}
			media, listed := decodeStrict(t, again.Encoded())
			if len(listed) != len(want) || len(want) > 0 && media.SeqNo != uint64(want[0].Seq) {
				t.Fatalf("the restored playlist lists %d segments from %d, want %d:\n%s", len(listed), media.SeqNo, len(want), again.Encoded())
			}
			if next := again.NextSeq(); next != segs[len(segs)-1].Seq+1 {
				t.Fatalf("NextSeq %d after a state that ended at %d: a sequence number would be used twice", next, segs[len(segs)-1].Seq)
			}
			// Numbering survives a second restart before any new segment,
			// even one that wrote the (empty) window on its way out.
			if err := again.Close(); err != nil {
				t.Fatal(err)
			}
			if next := restore(t, cfg).NextSeq(); next != segs[len(segs)-1].Seq+1 {
				t.Fatalf("after a second restart NextSeq is %d, want %d", next, segs[len(segs)-1].Seq+1)
			}
		})
	}
}

// TestRestoreDiscontinuity restarts a playlist three times. The first
// segment after each restart carries EXT-X-DISCONTINUITY, and no other
// does; a restart keeps the flags in the window; DISCONTINUITY-SEQUENCE
// rises by one exactly when a flagged segment leaves the window, and is
// kept across restarts.
func TestRestoreDiscontinuity(t *testing.T) {
	cfg := restoreConfig(t.TempDir())
	cfg.Window = 3 * time.Second
	p, mk := newPlaylist(t, cfg)
	flagged := map[media.Seq]bool{}
	var discSeq uint64
	add := func(restarted bool) {
		t.Helper()
		s := mk.make(time.Second)
		add(t, p, s)
		if restarted {
			flagged[s.Seq] = true
		}
		listed := p.Segments()
		for seq := range flagged {
			if seq < listed[0].Seq {
				delete(flagged, seq)
				discSeq++
			}
		}
		media, segs := decodeStrict(t, p.Encoded())
		if media.DiscontinuitySeq != discSeq {
			t.Fatalf("after %s: DISCONTINUITY-SEQUENCE %d, want %d", s.Name(), media.DiscontinuitySeq, discSeq)
		}
		for i, g := range segs {
			if g.Discontinuity != flagged[listed[i].Seq] || listed[i].Discontinuity != flagged[listed[i].Seq] {
				t.Fatalf("after %s: %s discontinuous %v (listed %v), want %v:\n%s",
					s.Name(), g.URI, g.Discontinuity, listed[i].Discontinuity, flagged[listed[i].Seq], p.Encoded())
			}
		}
	}
	restart := func() {
		t.Helper()
		before := p.Encoded()
		p = restore(t, cfg)
		if !bytes.Equal(p.Encoded(), before) {
			t.Fatalf("the restart changed the playlist:\n%s\n--- before ---\n%s", p.Encoded(), before)
		}
		mk.pts += 7 * clock.Hz // the clock ran on while the server was down
	}

	for range 5 {
		add(false)
	}
	restart()
	add(true)
	add(false)
	restart() // with the flagged segment still in the window
	add(true)
	for range 4 {
		add(false)
	}
	if discSeq != 2 || len(flagged) != 0 {
		t.Fatalf("DISCONTINUITY-SEQUENCE reached %d with %d flags in the window: the test did not see both leave", discSeq, len(flagged))
	}
	restart()
	if media, _ := decodeStrict(t, p.Encoded()); media.DiscontinuitySeq != 2 {
		t.Fatalf("restored DISCONTINUITY-SEQUENCE %d, want 2", media.DiscontinuitySeq)
	}
	add(true)
}

// casesCorruptState are state files a restarted server must refuse to
// start from, rather than forget the stream's history.
var casesCorruptState = []struct {
	name  string
	state func(valid []byte) []byte
}{
	{"empty", func([]byte) []byte { return nil }},
	{"truncated", func(valid []byte) []byte { return valid[:len(valid)/2] }},
	{"garbage", func([]byte) []byte { return []byte("\x00\x01\x02 not JSON") }},
	{"an array", func([]byte) []byte { return []byte(`[]`) }},
	{"segments not a list", func([]byte) []byte { return []byte(`{"segments":"0.ts"}`) }},
	{"negative sequence number", func([]byte) []byte { return []byte(`{"segments":[{"seq":-1}]}`) }},
	{"sequence number beyond uint64", func([]byte) []byte { return []byte(`{"segments":[{"seq":18446744073709551616}]}`) }},
	{"start not a time", func(valid []byte) []byte {
		return bytes.Replace(valid, []byte(`"start":"2026-`), []byte(`"start":"yesterday-`), 1)
	}},
	{"trailing garbage", func(valid []byte) []byte { return append(append([]byte(nil), valid...), "}x"...) }},
	{"sequence numbers out of order", func(valid []byte) []byte { return renumber(valid, 0, 2, 1) }},
	{"a sequence number twice", func(valid []byte) []byte { return renumber(valid, 0, 0, 2) }},
}

// renumber gives the segments of a valid state the sequence numbers seqs,
// whose files are there, the same size as the right ones: only the state
// can tell them wrong.
func renumber(valid []byte, seqs ...int) []byte {
	var st map[string]any
	if err := json.Unmarshal(valid, &st); err != nil {
		panic(err)
	}
	for i, s := range st["segments"].([]any) {
		s.(map[string]any)["seq"] = seqs[i]
	}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	return b
}

// TestRestoreRefusesCorruptState makes New fail, with an error naming the
// state file, for each corrupt state, and leaves the file as it was for
// whoever looks into it. A state.json that is a folder fails the same way.
func TestRestoreRefusesCorruptState(t *testing.T) {
	for _, c := range casesCorruptState {
		t.Run(c.name, func(t *testing.T) {
			cfg := restoreConfig(t.TempDir())
			p, mk := newPlaylist(t, cfg)
			writeRun(t, p, mk, 90000, 90000, 90000)
			path := filepath.Join(cfg.Dir, playlist.StateFile)
			valid, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			corrupt := c.state(valid)
			if err := os.WriteFile(path, corrupt, 0o644); err != nil {
				t.Fatal(err)
			}
			again, err := playlist.New(cfg)
			if err == nil || again != nil || !strings.Contains(err.Error(), playlist.StateFile) {
				t.Fatalf("New over %q: playlist %v, error %v; want an error naming %s", corrupt, again != nil, err, playlist.StateFile)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, corrupt) {
				t.Fatalf("New rewrote the corrupt state file to %q", now)
			}
		})
	}
	t.Run("a folder", func(t *testing.T) {
		cfg := restoreConfig(t.TempDir())
		if err := os.Mkdir(filepath.Join(cfg.Dir, playlist.StateFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := playlist.New(cfg); err == nil || !strings.Contains(err.Error(), playlist.StateFile) {
			t.Fatalf("New: %v; want an error naming %s", err, playlist.StateFile)
		}
	})
}
