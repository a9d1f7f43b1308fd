//go:build cgo

package stream_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stream"
)

// TestSupervisorMakesAFailedStreamAgain: a stream that cannot be made
// twice (its folder's disk, say) is failed, saying why, and made again
// after a pause each time; the third making runs it to the end of its
// input, and the supervisor then says it ended and makes it no more.
func TestSupervisorMakesAFailedStreamAgain(t *testing.T) {
	dir := t.TempDir()
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	broken := errors.New("the disk is on fire")
	var tries atomic.Int32
	failedSeen := make(chan string, 2)
	var sv *stream.Supervisor
	sv = stream.NewSupervisor("demo", func() (*stream.Stream, error) {
		if n := tries.Add(1); n <= 2 {
			if n == 2 { // the first failure is recorded by now
				state, why := sv.State()
				failedSeen <- state + ": " + why
			}
			return nil, broken
		}
		return smallStream(t, dir, store, 60)
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if state, _ := sv.State(); state != stream.Starting {
		t.Fatalf("before Run: state %s, want starting", state)
	}
	if err := sv.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := <-failedSeen; got != "failed: the disk is on fire" {
		t.Errorf("between tries the state was %q, want failed with the reason", got)
	}
	if n := tries.Load(); n != 3 {
		t.Errorf("made %d times, want 3: two failures, then a run to the end", n)
	}
	if state, why := sv.State(); state != stream.Ended {
		t.Errorf("after its input ended: state %s (%s), want ended", state, why)
	}
	if n := len(sv.Current().Playlist().Segments()); n < 1 {
		t.Errorf("the stream made at last listed %d segments", n)
	}
}

// TestSupervisorStopWhileWaiting: a stream stopped while it waits to be
// made again stops at once.
func TestSupervisorStopWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var tries atomic.Int32
	sv := stream.NewSupervisor("demo", func() (*stream.Stream, error) {
		tries.Add(1)
		cancel() // stopped during the first pause
		return nil, errors.New("no")
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := sv.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tries.Load(); n != 1 {
		t.Errorf("made %d times, want 1: stopped while waiting", n)
	}
}

// TestSupervisorHandsSubscribersOn: a client following the markers of a
// stream that fails (its playlist cannot be written) follows those of the
// stream made again: a change there wakes it, and its subscription counts
// there until it ends.
func TestSupervisorHandsSubscribersOn(t *testing.T) {
	dir := t.TempDir()
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	broken := errors.New("the disk is on fire")
	var first atomic.Pointer[stream.Stream]
	sv := stream.NewSupervisor("demo", func() (*stream.Stream, error) {
		if first.Load() == nil {
			st, err := faultyStream(t, dir, store, 30, stream.Faults{WriteFile: func(string, []byte) error { return broken }})
			first.Store(st)
			return st, err
		}
		return smallStream(t, dir, store, 1<<20)
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := sv.Start(); err != nil {
		t.Fatal(err)
	}
	wake, cancel, ok := first.Load().Markers().Subscribe(10)
	if !ok {
		t.Fatal("subscribe refused")
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sv.Run(ctx) }()
	defer func() {
		stop()
		<-done
	}()
	deadline := time.Now().Add(30 * time.Second)
	for sv.Current() == first.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the failing stream was not made again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	again := sv.Current().Markers()
	if n := again.Subscribers(); n != 1 {
		t.Fatalf("the stream made again counts %d subscribers, want the 1 of the one that failed", n)
	}
	for len(wake) > 0 { // woken by the failure and the handing on
		<-wake
	}
	again.Wake()
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("a change of the stream made again did not wake the subscriber of the one that failed")
	}
	cancel()
	if n := again.Subscribers(); n != 0 {
		t.Errorf("after the subscription ended, %d subscribers", n)
	}
}

// smallStream makes a checkerboard stream of frames frames into dir on a
// fake clock.
func smallStream(t *testing.T, dir string, store marker.Store, frames int) (*stream.Stream, error) {
	return faultyStream(t, dir, store, frames, stream.Faults{})
}

// faultyStream is smallStream with faults on its path to disk.
func faultyStream(t *testing.T, dir string, store marker.Store, frames int, faults stream.Faults) (*stream.Stream, error) {
	size := media.Size{Width: 160, Height: 120}
	epoch := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return stream.New(stream.Config{
		Name: "demo", Dir: filepath.Join(dir, "demo"), Segment: time.Second, Window: time.Hour, Grace: 2 * time.Hour,
		Encoder: pipeline.EncoderConfig{Size: size, FPS: 30, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: time.Second},
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			src, err := pipeline.NewCheckerboard(pipeline.DefaultCheckerboardConfig(size), at.Clock, at.Timeline)
			return pipeline.Limit(src, frames), err
		},
		Clock: clock.NewFake(epoch, nil), Epoch: epoch, Store: store, Supervised: true, Faults: faults,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}
