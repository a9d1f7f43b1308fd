//go:build cgo

package stream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
)

// The child process of TestKillAtEachStep runs a stream into crashDirEnv
// and kills itself at crashAtEnv on the path of segment crashSegment.
const (
	crashAtEnv  = "HLSMARK_TEST_CRASH_AT"
	crashDirEnv = "HLSMARK_TEST_CRASH_DIR"
	// crashFormatEnv names the segment format (media.Format's name).
	crashFormatEnv = "HLSMARK_TEST_CRASH_FORMAT"
	crashSegment   = 3
)

var crashEpoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	if at := os.Getenv(crashAtEnv); at != "" {
		format, err := media.ParseFormat(os.Getenv(crashFormatEnv))
		if err != nil {
			panic(err)
		}
		runUntilKilled(os.Getenv(crashDirEnv), at, format)
		os.Exit(3) // not killed: the parent sees exit code 3
	}
	os.Exit(m.Run())
}

// casesKillStep are the steps of a segment's path, from the muxer's
// temporary file to the playlist on disk.
var casesKillStep = []string{"written", "synced", "renamed", "state", "playlist"}

// runUntilKilled streams segments in format into dir, killing the process
// with SIGKILL at step at of segment crashSegment.
func runUntilKilled(dir, at string, format media.Format) {
	kill := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	var st *stream.Stream
	faults := stream.Faults{
		SegmentStep: func(s muxer.Step, seg media.Segment) {
			if seg.Seq == crashSegment && s == muxer.Written {
				// The segments before are on disk, listed, before the
				// kill: the playlist writer may lag behind the muxer on
				// a loaded machine, and a kill before any playlist is
				// written would test nothing.
				_ = st.Playlist().Flush()
			}
			if seg.Seq == crashSegment && map[muxer.Step]string{muxer.Written: "written", muxer.Synced: "synced", muxer.Renamed: "renamed"}[s] == at {
				kill()
			}
		},
		WriteFile: func(path string, data []byte) error {
			lists := bytes.Contains(data, []byte(`"seq":`+"3"+`,`)) || bytes.Contains(data, []byte("\n"+format.SegmentName(crashSegment)+"\n"))
			if lists && (at == "state" && filepath.Base(path) == playlist.StateFile || at == "playlist" && filepath.Base(path) == playlist.FileName) {
				kill()
			}
			return durable.WriteFile(path, data, 0o644)
		},
	}
	st, store, err := crashStream(dir, format, crashEpoch, 300, faults, io.Discard, nil)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if err := st.Run(context.Background()); err != nil {
		panic(err)
	}
}

// crashStream wires a small stream of segments in format into dir on a
// fake clock reading start.
func crashStream(dir string, format media.Format, start time.Time, frames int, faults stream.Faults, log io.Writer, made func(media.Segment)) (*stream.Stream, *marker.Bolt, error) {
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		return nil, nil, err
	}
	size := media.Size{Width: 160, Height: 120}
	st, err := stream.New(stream.Config{
		Name: "demo", Dir: filepath.Join(dir, "demo"), Segment: time.Second, Window: time.Hour, Grace: 2 * time.Hour, Format: format,
		Encoder: pipeline.EncoderConfig{Size: size, FPS: 30, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: time.Second},
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			clk, tl := at.Clock, at.Timeline
			src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
				Size: size, FPS: 30, Block: 20, EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond, EventFixed: true, Seed: 1,
			}, clk, tl)
			return pipeline.Limit(src, frames), err
		},
		Detector: pipeline.NewMintDetector,
		Clock:    clock.NewFake(start, nil), Epoch: crashEpoch, Store: store,
		Log:     slog.New(slog.NewTextHandler(log, nil)),
		Faults:  faults,
		Observe: stream.Observer{Segment: made},
	})
	if err != nil {
		store.Close()
	}
	return st, store, err
}

// TestKillAtEachStep kills a stream (SIGKILL, in a child process) at each
// step of a segment's path: its temporary file written, synced, renamed
// into place, the state file that first lists it about to be written, the
// playlist that first lists it about to be written. Each time, the folder
// left holds a playlist whose every listed segment decodes, and a restart
// on it publishes within three target durations, numbering on from the
// last segment recorded, with a discontinuity, and loses no segment that
// was listed; every file left that the record does not list (a segment
// renamed but not yet recorded, a temporary file) is removed, and the log
// names it. It runs for each segment format; an fMP4 stream's init
// segment is on disk before its first segment.
func TestKillAtEachStep(t *testing.T) {
	for _, format := range media.Formats {
		for _, at := range casesKillStep {
			t.Run(format.String()+"/"+at, func(t *testing.T) { killAt(t, format, at) })
		}
	}
}

// killAt is TestKillAtEachStep for one format and step.
func killAt(t *testing.T, format media.Format, at string) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashAtEnv+"="+at, crashDirEnv+"="+dir, crashFormatEnv+"="+format.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed at %s: %v\n%s", at, err, out.String())
	}
	listedBefore := checkListed(t, filepath.Join(dir, "demo"), format)
	if len(listedBefore) == 0 {
		t.Fatal("the child listed no segment before its kill")
	}

	// What the folder holds that the restored playlist will not
	// list: the restart must remove it and say so.
	var strays []string
	entries, _ := os.ReadDir(filepath.Join(dir, "demo"))
	restored := checkState(t, filepath.Join(dir, "demo"))
	for _, e := range entries {
		seq, isSeg := format.ParseSegmentName(e.Name())
		if isSeg && !restored[seq] || strings.HasSuffix(e.Name(), format.Ext()+".tmp") || e.Name() == "."+media.InitName+".tmp" {
			strays = append(strays, e.Name())
		}
	}

	// The restart: 3 s of frames, 3 target durations, an hour on.
	var log bytes.Buffer
	var made []media.Segment
	st, store, err := crashStream(dir, format, crashEpoch.Add(time.Hour), 90, stream.Faults{}, &log,
		func(s media.Segment) { made = append(made, s) })
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	kept := st.Playlist().Segments()
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(made) == 0 {
		t.Fatal("the restart listed no segment in 3 s")
	}
	if want := kept[len(kept)-1].Seq + 1; made[0].Seq != want || !made[0].Discontinuity {
		t.Errorf("the restart's first segment: %d, discontinuous %v; want %d, discontinuous", made[0].Seq, made[0].Discontinuity, want)
	}
	listed := checkListed(t, filepath.Join(dir, "demo"), format)
	inList := map[media.Seq]bool{}
	for i, l := range listed {
		if i > 0 && l.Seq != listed[i-1].Seq+1 {
			t.Fatalf("listed %v: not consecutive", listed)
		}
		inList[l.Seq] = true
	}
	for _, l := range listedBefore {
		if !inList[l.Seq] {
			t.Errorf("segment %d, listed before the kill, is gone", l.Seq)
		}
	}
	for _, name := range strays {
		if !strings.Contains(log.String(), name) {
			t.Errorf("the restart's log does not name %s, left unlisted in the folder:\n%s", name, log.String())
		}
	}
}

// checkState reads the state file in dir (with the standard library: it
// is JSON) and returns the sequence numbers it records.
func checkState(t *testing.T, dir string) map[media.Seq]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, playlist.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Segments []struct {
			Seq media.Seq `json:"seq"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	out := map[media.Seq]bool{}
	for _, s := range st.Segments {
		out[s.Seq] = true
	}
	return out
}

// checkListed reads the playlist file in dir, requires every segment it
// lists (in format: fMP4 after its init segment) to decode whole, and
// returns them.
func checkListed(t *testing.T, dir string, format media.Format) []pipelinetest.Listed {
	t.Helper()
	segs, _ := pipelinetest.ReadPlaylist(t, dir)
	for _, s := range segs {
		seg := media.Segment{Path: s.Path, Format: format}
		if _, err := segread.DecodeSegment(seg, func(segread.Frame) error { return nil }); err != nil {
			t.Fatalf("listed segment %s: %v", s.Path, err)
		}
	}
	return segs
}
