package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// casesDetect are the inputs and --detect values whose detector markers
// TestDetectFlag counts: framed frames with a mint square in frames 20 to
// 39, and the checkerboard with an event every 2 s. Motion sees two
// episodes in the framed frames: the square appearing, and leaving.
var casesDetect = []struct {
	name   string
	input  string
	detect string
	want   int // detector markers; -1: at least one
}{
	{"framed input: none by default", inputStdin, "", 0},
	{"framed input: --detect mint", inputStdin, "mint", 1},
	{"framed input: --detect motion", inputStdin, "motion", 2},
	{"checkerboard: mint by default", inputCheckerboard, "", -1},
	{"checkerboard: --detect none", inputCheckerboard, "none", 0},
}

// mintFrames returns framed rgb24 160x120 frames, 3600 ticks apart from
// PTS 1000: black, with a 32×32 mint square in frames first to last-1.
func mintFrames(n, first, last int) (data []byte, pts []clock.Ticks) {
	for i := range n {
		p := clock.Ticks(1000 + 3600*i)
		pts = append(pts, p)
		data = binary.BigEndian.AppendUint64(data, uint64(p))
		pic := make([]byte, rawW*rawH*3)
		for y := 40; y < 72 && i >= first && i < last; y++ {
			for x := 64; x < 96; x++ {
				copy(pic[(y*rawW+x)*3:], pipeline.Mint[:])
			}
		}
		data = append(data, pic...)
	}
	return data, pts
}

// TestDetectFlag runs each case's stream to its end on a fake clock and
// counts the detector's markers: --detect none and a raw input's default
// run no detector; mint finds the square in raw frames at the exact PTS
// of the first frame showing it, and lasting until the first without it;
// motion, at its defaults, opens an episode labelled motion at the frame
// the square appears (20), and another at the frame it leaves (40).
// Checked to fail by making --detect motion run the mint detector, and
// --detect none the mint detector too.
func TestDetectFlag(t *testing.T) {
	for _, c := range casesDetect {
		t.Run(c.name, func(t *testing.T) {
			frames, pts := mintFrames(60, 20, 40)
			cfg := streamConfig{
				inputConfig: inputConfig{Input: c.input, Format: formatFramed, PixFmt: pipeline.RGB24, Detect: c.detect, Stdin: bytes.NewReader(frames),
					Motion: pipeline.MotionConfig{Threshold: pipeline.DefaultMotionThreshold, MinArea: pipeline.DefaultMotionMinArea}},
				Data: t.TempDir(), Name: "demo", Size: media.Size{Width: rawW, Height: rawH}, FPS: 25,
				Segment: time.Second, Window: time.Minute, Preset: "ultrafast", Tune: "zerolatency",
				EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond, EventFixed: true, Seed: 1,
			}
			cfg.Grace = cfg.minGrace()
			store, err := marker.OpenBolt(filepath.Join(cfg.Data, "markers.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			st, err := newStream(cfg, clock.NewFake(time.Now(), nil), store, slog.New(slog.NewTextHandler(io.Discard, nil)),
				func(s pipeline.Source) pipeline.Source { return pipeline.Limit(s, 150) })
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			ms, err := store.List(context.Background(), "demo", 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var detected []marker.Marker
			for _, m := range ms {
				if m.Source == marker.FromDetector {
					detected = append(detected, m)
				}
			}
			switch {
			case c.want < 0 && len(detected) == 0:
				t.Fatal("no detector marker, want some")
			case c.want >= 0 && len(detected) != c.want:
				t.Fatalf("%d detector markers %+v, want %d", len(detected), detected, c.want)
			case c.detect == "mint" && (detected[0].PTS != pts[20] || detected[0].Duration != pts[40]-pts[20]):
				t.Errorf("marker at PTS %d lasting %d, want %d lasting %d (frames 20 to 39)",
					detected[0].PTS, detected[0].Duration, pts[20], pts[40]-pts[20])
			case c.detect == "motion" && (detected[0].PTS != pts[20] || detected[1].PTS != pts[40] ||
				detected[0].Label != pipeline.MotionLabel || detected[1].Label != pipeline.MotionLabel):
				t.Errorf("markers %+v, want two labelled %q at PTS %d and %d (frames 20 and 40)", detected, pipeline.MotionLabel, pts[20], pts[40])
			}
		})
	}
}

// TestStampIsNotMotion makes the detector of --detect motion --stamp and
// shows it a still grey picture under a strip that changes with every
// frame's PTS: no motion. Checked to fail with --stamp not masking the
// strip (an episode opens at the second frame).
func TestStampIsNotMotion(t *testing.T) {
	c := inputConfig{Detect: detectMotion, Stamp: true,
		Motion: pipeline.MotionConfig{Threshold: pipeline.DefaultMotionThreshold, MinArea: pipeline.DefaultMotionMinArea}}
	size := media.Size{Width: 640, Height: 360}
	det, err := c.detector()(size)
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	for i := range 30 {
		f := pipeline.NewFrame(size)
		for j := range f.BGR {
			f.BGR[j] = 100
		}
		f.PTS = clock.Ticks(3000 * (i + 1))
		stamp.Draw(f.BGR, size, f.PTS)
		if d, ok := det.Inspect(f); ok {
			t.Fatalf("frame %d: %+v, want no motion under a changing strip", i, d)
		}
	}
}
