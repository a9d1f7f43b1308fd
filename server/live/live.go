//go:build cgo

package live

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/clip"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server"
)

// segmentCache is how many bytes of the newest segments are kept in
// memory to answer from, as `hlsmark serve` keeps by default.
const segmentCache = 64 << 20

// Stream is a running stream fed by the program. Its methods are safe for
// concurrent use.
type Stream struct {
	cfg     Config
	store   *marker.Bolt
	push    *pipeline.Push
	stream  *stream.Stream
	handler *server.Server

	done      chan struct{} // closed when the stream's Run has returned
	runErr    error         // Run's error, once done is closed
	closeOnce sync.Once
	closeErr  error

	imageMu  sync.Mutex // guards imageBuf
	imageBuf []byte     // PushImage's RGBA picture, reused
}

// Start starts the stream cfg describes: it opens the marker store, wires
// the encoder, muxer, playlist and marker service, and waits for frames.
// The stream runs until End or Close, or until ctx ends, which ends it as
// End does.
func Start(ctx context.Context, cfg Config) (_ *Stream, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	s := &Stream{cfg: cfg, done: make(chan struct{})}
	if s.store, err = marker.OpenBolt(filepath.Join(cfg.Data, "markers.db")); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	s.stream, err = stream.New(stream.Config{
		Name: cfg.Name, Dir: filepath.Join(cfg.Data, cfg.Name),
		Segment: cfg.Segment, Window: cfg.Window, Grace: playlist.MinGrace(cfg.Window, cfg.Segment),
		CacheBytes: segmentCache,
		Encoder:    cfg.encoder(),
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			// A program restarted on the folder goes on past its last PTS.
			s.push, err = pipeline.NewPush(cfg.Size, cfg.PixFmt, at.Resume)
			return s.push, err
		},
		Clock: clock.Real{}, Store: s.store, Log: cfg.Log,
	})
	if err != nil {
		// stream.New frees the source it made: nothing else holds libav.
		s.store.Close()
		return nil, fmt.Errorf("live: %w", err)
	}
	st := s.stream
	s.handler = server.New(server.Config{
		Streams: server.Fixed{{Name: st.Name(), Playlist: st.Playlist(), Markers: st.Markers(), Cache: st.Cache(), State: st.State,
			Frames: st.Frames(), Clips: clip.New(st.Playlist().SegmentAt)}},
		Token:   cfg.Token,
		Logger:  cfg.Log,
		Metrics: st.Metrics(),
	})
	// The stream runs on a context of its own: it ends by the end of its
	// source (End), so that every frame accepted is encoded and written.
	go func() {
		defer close(s.done)
		s.runErr = st.Run(context.WithoutCancel(ctx))
		s.push.End() // if the stream stopped by itself, Push must not wait
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.push.End()
		case <-s.done:
		}
	}()
	return s, nil
}

// End ends the stream and returns once it has ended: the frames pushed
// are encoded, the last segment is written, the playlist gets
// EXT-X-ENDLIST and libav's state is freed. The handler serves the ended
// stream and its markers on until Close; Push returns pipeline.ErrEnded.
// It returns the stream's error, if it failed.
func (s *Stream) End() error {
	s.push.End()
	<-s.done
	return s.runErr
}

// Close ends the stream (End), ends the handler's event streams and
// closes the marker store. Stop serving the handler first: without the
// store, its marker API fails. Close returns the stream's error, if it
// failed; later calls return the same.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.End()
		s.handler.Shutdown()
		if err := s.store.Close(); err != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("live: %w", err)
		}
	})
	return s.closeErr
}

// Handler returns the stream's HTTP handler: the player at /, the stream
// at /streams/{Name}/, the marker API under /api/, /metrics, /healthz and
// /readyz, as `hlsmark serve` serves them. Register its Shutdown with
// http.Server.RegisterOnShutdown, so that a graceful shutdown does not
// wait on the open event streams.
func (s *Stream) Handler() *server.Server { return s.handler }

// PlaylistPath returns the path of the stream's playlist in the handler.
func (s *Stream) PlaylistPath() string { return "/streams/" + s.cfg.Name + "/index.m3u8" }

// Dir returns the stream's folder: its segments and playlist.
func (s *Stream) Dir() string { return s.stream.Dir() }

// Timeline returns the stream's timeline: its epoch is the wall-clock time
// of PTS 0.
func (s *Stream) Timeline() clock.Timeline { return s.stream.Timeline() }

// Push hands over one picture in Config.PixFmt, packed with no padding,
// shown from pts (90 kHz ticks on the program's clock). It returns once
// the frame is in the pipeline (the program may reuse pix), blocking while
// the pipeline's queue is full, or when ctx ends. A pts that does not rise
// past the previous frame's (an error wrapping pipeline.ErrRejected) or a
// picture of the wrong length is refused and changes nothing; after Close
// it returns pipeline.ErrEnded.
func (s *Stream) Push(ctx context.Context, pts clock.Ticks, pix []byte) error {
	return s.push.Push(ctx, pts, s.cfg.PixFmt, pix)
}

// Marker is a marker a program adds: the PTS of the first frame showing
// its event (a PTS it pushed), a label, and optionally how long the event
// lasted and data (a JSON object).
type Marker struct {
	PTS      clock.Ticks
	Label    string
	Duration time.Duration
	Data     json.RawMessage
}

// AddMarker stores m and places it in the stream exactly as a POST to the
// marker API does (through the same marker.Service): its PTS must lie
// between the start of the window and the newest frame pushed, and it is
// checked as a POST's body is (label, duration, data). It returns the
// stored marker; Position tells its segment and offset once the segment
// holding its frame is listed. It is written to the playlist as
// EXT-X-DATERANGE and told to the handler's event streams.
func (s *Stream) AddMarker(ctx context.Context, m Marker) (marker.Marker, error) {
	mk, err := server.CheckMarker(marker.Marker{PTS: m.PTS, Label: m.Label, Duration: clock.FromDuration(m.Duration), Data: m.Data}, server.Limits{})
	if err != nil {
		return marker.Marker{}, fmt.Errorf("live: marker: %w", err)
	}
	mk, err = s.stream.Markers().Post(ctx, mk)
	if err != nil {
		return marker.Marker{}, fmt.Errorf("live: marker: %w", err)
	}
	return mk, nil
}

// Position returns where pts lies in the stream: the media sequence
// number of the listed segment holding it and the offset from that
// segment's first PTS, as the marker API gives a marker's; false before
// that segment is listed and after it has left the window.
func (s *Stream) Position(pts clock.Ticks) (playlist.Position, bool) {
	return s.stream.Playlist().Locate(pts)
}
