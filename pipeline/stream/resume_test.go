//go:build cgo

package stream_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/pipeline/stream"
)

// runFramed streams n framed grey pictures, 25 fps apart from PTS first,
// into dir's stream "demo" until they end, and returns the stream.
func runFramed(t *testing.T, dir string, store marker.Store, first clock.Ticks, n int) *stream.Stream {
	t.Helper()
	const step = clock.Ticks(3600)
	size := media.Size{Width: 160, Height: 120}
	var input bytes.Buffer
	for i := range n {
		_ = binary.Write(&input, binary.BigEndian, int64(first+clock.Ticks(i)*step))
		input.Write(bytes.Repeat([]byte{byte(5 * i)}, size.Width*size.Height))
	}
	epoch := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	st, err := stream.New(stream.Config{
		Name: "demo", Dir: filepath.Join(dir, "demo"), Segment: time.Second, Window: time.Hour, Grace: time.Hour,
		Encoder: pipeline.EncoderConfig{Size: size, FPS: 25, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: time.Second},
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			return pipeline.NewRaw(pipeline.RawConfig{Size: size, Format: pipeline.Gray, Framed: true}, &input, at)
		},
		Clock: clock.NewFake(epoch, nil), Epoch: epoch, Store: store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFramedRestartCannotGoBack: a framed producer streams 2 s (PTS 0 to
// 176400), the server restarts on the same folder, and the producer
// starts again from PTS 0. Its frames would go back in the stream: the
// stream fails at once, saying why, and the segments of the first run
// stay listed as they were. A producer that goes on from where the
// stream ended (PTS 180000, one frame step past the last) is taken, in a
// discontinuous segment.
func TestFramedRestartCannotGoBack(t *testing.T) {
	dir := t.TempDir()
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	first := runFramed(t, dir, store, 0, 50)
	if err := first.Failed(); err != nil {
		t.Fatalf("first run failed: %v", err)
	}
	recorded, _ := pipelinetest.ReadPlaylist(t, filepath.Join(dir, "demo"))

	again := runFramed(t, dir, store, 0, 50)
	if err := again.Failed(); err == nil || !strings.Contains(err.Error(), "comes before 180000") {
		t.Fatalf("a producer restarted at PTS 0 on a stream ending at 180000: Failed() = %v", err)
	}
	if after, _ := pipelinetest.ReadPlaylist(t, filepath.Join(dir, "demo")); len(after) != len(recorded) {
		t.Fatalf("the refused run changed the playlist: %d segments, were %d", len(after), len(recorded))
	}

	on := runFramed(t, dir, store, 180000, 25)
	if err := on.Failed(); err != nil {
		t.Fatalf("a producer going on from PTS 180000 was refused: %v", err)
	}
	segs, _ := pipelinetest.ReadPlaylist(t, filepath.Join(dir, "demo"))
	if len(segs) <= len(recorded) {
		t.Fatalf("the run going on added no segment: %d listed", len(segs))
	}
	var firstPTS []clock.Ticks
	if _, err := segread.Decode(segs[len(recorded)].Path, func(fr segread.Frame) error {
		firstPTS = append(firstPTS, fr.PTS)
		return nil
	}); err != nil || len(firstPTS) == 0 || firstPTS[0] != 180000 {
		t.Fatalf("the first segment after the restart starts with PTS %v (err %v), want 180000", firstPTS, err)
	}
	if seg, _ := on.Playlist().Segment(segs[len(recorded)].Seq); !seg.Discontinuity {
		t.Error("the first segment after the restart is not marked EXT-X-DISCONTINUITY")
	}
}
