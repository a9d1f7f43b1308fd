package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestEmptyEpochRecovered starts a stream over the folder a first start
// that failed mid-write leaves (an empty epoch file, nothing recorded): the
// stream starts, with a warning naming the stream, and the epoch file then
// holds the new epoch. With segments recorded (a state file), an empty
// epoch stops the start, naming the file, since a new epoch would move
// everything recorded.
func TestEmptyEpochRecovered(t *testing.T) {
	for _, recorded := range []bool{false, true} {
		t.Run(map[bool]string{false: "first start", true: "segments recorded"}[recorded], func(t *testing.T) {
			data := t.TempDir()
			dir := filepath.Join(data, "demo")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "epoch")
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if recorded {
				if err := os.WriteFile(filepath.Join(dir, playlist.StateFile), []byte(`{"segments":[]}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			store, err := marker.OpenBolt(filepath.Join(data, "markers.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			var logged bytes.Buffer
			now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
			c := streamConfig{
				Data: data, Name: "demo", Size: media.Size{Width: 160, Height: 120}, FPS: 30, Segment: time.Second, Window: 10 * time.Second,
				Grace: 11 * time.Second, Preset: "ultrafast", Tune: "zerolatency", EventEvery: 3 * time.Second, EventDuration: time.Second,
			}
			st, err := newStream(c, clock.NewFake(now, nil), store, slog.New(slog.NewTextHandler(&logged, nil)), nil)
			if recorded {
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Fatalf("newStream: %v; want an error naming %s", err, path)
				}
				if b, _ := os.ReadFile(path); len(b) != 0 {
					t.Fatalf("a refused start rewrote the epoch file to %q", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("newStream over an empty epoch file: %v", err)
			}
			st.Close()
			if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "epoch file held no time") ||
				!strings.Contains(logged.String(), "stream=demo") {
				t.Errorf("no warning naming the stream: %q", logged.String())
			}
			b, _ := os.ReadFile(path)
			if e, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err != nil || !e.Equal(now) || !st.Timeline().Epoch.Equal(now) {
				t.Fatalf("epoch file %q (%v), timeline epoch %v; want %v", b, err, st.Timeline().Epoch, now)
			}
		})
	}
}
