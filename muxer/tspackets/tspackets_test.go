package tspackets_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hlsmark/hlsmark/muxer/tspackets"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// TestReadAgreesWithFFprobe checks the reader against the ffmpeg tools on a
// file hlsmark had no hand in: ffmpeg writes two seconds of H.264 with
// B-frames, PTS past 2^32 (33-bit timestamps) and the discontinuity
// indicator on the first packet of every PID; ffprobe lists its packets.
// The reader must see the same PES packets at the same byte offsets, with
// the same PTS, DTS and keyframes, and the counters and indicators ffmpeg
// was asked to write.
func TestReadAgreesWithFFprobe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.ts")
	run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "50",
		"-c:v", "libx264", "-g", "25", "-bf", "2", "-output_ts_offset", "50000",
		"-mpegts_flags", "initial_discontinuity", "-f", "mpegts", path)
	var probe struct {
		Packets []struct {
			PTS   int64  `json:"pts"`
			DTS   int64  `json:"dts"`
			Flags string `json:"flags"`
			Pos   string `json:"pos"`
		} `json:"packets"`
	}
	out := run(t, "ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts,dts,flags,pos", "-of", "json", path)
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}

	f, err := tspackets.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	video := f.VideoPES()
	if len(video) != 50 || len(probe.Packets) != 50 {
		t.Fatalf("%d video PES read, ffprobe lists %d packets; want 50", len(video), len(probe.Packets))
	}
	// The n-th video packet that starts a payload is where the n-th PES
	// begins.
	var starts []int
	for i, p := range f.Packets {
		if p.PID == f.Video && p.PayloadStart {
			starts = append(starts, i*tspackets.Size)
		}
	}
	for i, want := range probe.Packets {
		got := video[i]
		key := want.Flags[0] == 'K'
		if got.PTS != clock.Ticks(want.PTS) || got.DTS != clock.Ticks(want.DTS) || got.IDR != key || got.RandomAccess != key ||
			strconv.Itoa(starts[i]) != want.Pos {
			t.Errorf("PES %d at %d: PTS %d, DTS %d, IDR %v, random access %v; ffprobe: %+v", i, starts[i], got.PTS, got.DTS, got.IDR, got.RandomAccess, want)
		}
	}
	if video[0].PTS < 1<<32 {
		t.Fatalf("first PTS %d: the file does not test 33-bit timestamps", video[0].PTS)
	}

	if !f.TablesFirst() {
		t.Errorf("PAT and PMT do not come first: %+v", f.Lead())
	}
	last := map[uint16]uint8{}
	for i, p := range f.Packets {
		prev, seen := last[p.PID]
		if p.Discontinuity == seen {
			t.Errorf("packet %d (PID %d): discontinuity indicator %v, ffmpeg sets it on the first packet of each PID only", i, p.PID, p.Discontinuity)
		}
		if seen && p.Payload && p.Counter != (prev+1)%16 {
			t.Errorf("packet %d (PID %d): counter %d after %d", i, p.PID, p.Counter, prev)
		}
		last[p.PID] = p.Counter
	}
	if len(last) != 4 {
		t.Errorf("PIDs %v, want SDT, PAT, PMT and video", last)
	}
}

// TestTablesFirstNeedsTheTables cuts the tables off the start of a file:
// PAT and PMT come again later, so the file still reads, but no longer
// from its first byte.
func TestTablesFirstNeedsTheTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.ts")
	run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "25",
		"-c:v", "libx264", "-f", "mpegts", path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := tspackets.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	lead := len(whole.Lead())
	if lead == 0 || !whole.TablesFirst() {
		t.Fatalf("ffmpeg's file: %d packets before the video, tables first %v", lead, whole.TablesFirst())
	}
	cut, err := tspackets.Parse(b[lead*tspackets.Size:])
	if err != nil {
		t.Fatal(err)
	}
	if cut.TablesFirst() || len(cut.Lead()) != 0 || cut.Video != whole.Video {
		t.Fatalf("without its first %d packets: tables first %v, %d packets before the video, video PID %d (was %d)",
			lead, cut.TablesFirst(), len(cut.Lead()), cut.Video, whole.Video)
	}
}

// run runs one of the ffmpeg tools, which the tests need: a missing one
// fails the test.
func run(t *testing.T, tool string, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is required (make setup-test installs it): %v", tool, err)
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s: %v\n%s", tool, err, stderr)
	}
	return out
}
