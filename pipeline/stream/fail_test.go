//go:build cgo

package stream_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/server"
)

// failingReader reads from r, then fails with err: a pipe whose producer's
// disk went away, not an end of input.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

// TestSourceFailsMidStream: a framed standard input whose read fails after
// 75 frames (3 s at 25 fps) ends the stream as an end of input would:
// every frame read before is in a listed segment that decodes, the
// playlist has EXT-X-ENDLIST, Run returns nil, and the stream says it
// failed, and why: /api/streams shows state failed with the error, and
// /readyz answers 503.
func TestSourceFailsMidStream(t *testing.T) {
	const frames, step = 75, clock.Ticks(3600)
	size := media.Size{Width: 160, Height: 120}
	var input bytes.Buffer
	for i := range frames {
		_ = binary.Write(&input, binary.BigEndian, int64(i)*int64(step))
		input.Write(bytes.Repeat([]byte{byte(3 * i)}, size.Width*size.Height))
	}
	broken := errors.New("the producer's disk went away")

	dir := t.TempDir()
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logged bytes.Buffer
	epoch := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	st, err := stream.New(stream.Config{
		Name: "demo", Dir: filepath.Join(dir, "demo"), Segment: time.Second, Window: time.Hour, Grace: time.Hour,
		Encoder: pipeline.EncoderConfig{Size: size, FPS: 25, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: time.Second},
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			return pipeline.NewRaw(pipeline.RawConfig{Size: size, Format: pipeline.Gray, Framed: true},
				&failingReader{r: &input, err: broken}, at)
		},
		Clock: clock.NewFake(epoch, nil), Epoch: epoch, Store: store,
		Log: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatalf("Run after the source failed: %v, want nil (the failure is the stream's state)", err)
	}
	if err := st.Failed(); !errors.Is(err, broken) {
		t.Fatalf("Failed() = %v, want the reader's error", err)
	}
	if !strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), broken.Error()) {
		t.Errorf("the failure was not logged at error level:\n%s", logged.String())
	}

	// Nothing written is lost: the playlist on disk ends with ENDLIST and
	// its segments hold every frame read, with the PTS it was sent with.
	f, err := os.Open(filepath.Join(dir, "demo", "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, _, err := m3u8.DecodeFrom(bufio.NewReader(f), true)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*m3u8.MediaPlaylist)
	if !pl.Closed {
		t.Error("the playlist has no EXT-X-ENDLIST")
	}
	var got []clock.Ticks
	for _, seg := range pl.Segments {
		if seg == nil {
			continue
		}
		if _, err := segread.Decode(filepath.Join(dir, "demo", seg.URI), func(fr segread.Frame) error {
			got = append(got, fr.PTS)
			return nil
		}); err != nil {
			t.Fatalf("segment %s: %v", seg.URI, err)
		}
	}
	if len(got) != frames {
		t.Fatalf("the listed segments hold %d frames, want the %d read before the failure", len(got), frames)
	}
	for i, pts := range got {
		if want := clock.Ticks(i) * step; pts%(1<<33) != want {
			t.Fatalf("frame %d has PTS %d, want %d", i, pts, want)
		}
	}

	// What the server says of it.
	ts := httptest.NewServer(server.New(server.Config{Streams: server.Fixed{{
		Name: "demo", Playlist: st.Playlist(), Markers: st.Markers(), State: st.State}}}))
	defer ts.Close()
	var list struct {
		Streams []struct{ State, Reason string }
	}
	if code, body := get(t, ts.URL+"/api/streams"); code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Streams) != 1 {
		t.Fatalf("/api/streams: %d %s", code, body)
	}
	if s := list.Streams[0]; s.State != "failed" || !strings.Contains(s.Reason, broken.Error()) {
		t.Errorf("/api/streams: state %q, reason %q; want failed with the reader's error", s.State, s.Reason)
	}
	if code, body := get(t, ts.URL+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(string(body), broken.Error()) {
		t.Errorf("/readyz of a failed stream: %d %s, want 503 naming the error", code, body)
	}
}

// get fetches url and returns the status code and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
