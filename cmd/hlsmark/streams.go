package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/clip"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/metrics"
)

// streamSet is the server's streams, each run by its supervisor: the
// server sees the stream each one made last. With a config file, PUT and
// DELETE /api/streams/{stream} change the set, and the file is written
// back, so that a restart runs the same streams.
type streamSet struct {
	ctx     context.Context // the server's: when it ends, every stream stops
	data    string
	file    *configFile // nil: the stream comes from flags and cannot change
	store   marker.Store
	metrics *metrics.Metrics
	log     *slog.Logger
	make    func(streamConfig) (*stream.Stream, error)
	leases  *leases // nil: every stream is this server's alone

	change  sync.Mutex // one change at a time: a replacement waits for the stream it replaces
	mu      sync.Mutex // guards streams
	streams map[string]*supervisedStream
	running sync.WaitGroup
	errsMu  sync.Mutex
	errs    []error // of the streams stopped with an error
}

// supervisedStream is one stream of the server: its supervisor, what its
// configuration says of it, and how to stop it.
type supervisedStream struct {
	*stream.Supervisor
	config streamConfig
	stop   context.CancelCauseFunc
	done   chan struct{} // closed when the supervisor's Run has returned
	// standby is set while another server owns the stream (see leases).
	standby atomic.Bool
}

// newStreamSet returns an empty set whose streams stop when ctx ends.
func newStreamSet(ctx context.Context, data string, file *configFile, store marker.Store, m *metrics.Metrics, log *slog.Logger,
	make func(streamConfig) (*stream.Stream, error)) *streamSet {
	return &streamSet{ctx: ctx, data: data, file: file, store: store, metrics: m, log: log, make: make,
		streams: map[string]*supervisedStream{}}
}

// start adds the stream c describes and runs it. With now set, the stream
// is made at once and an error in making it is returned (a command line
// refused at start); otherwise its supervisor makes it, and tells of
// failures through its state.
func (s *streamSet) start(c streamConfig, now bool) error {
	sv := stream.NewSupervisor(c.Name, func() (*stream.Stream, error) { return s.make(c) }, s.log)
	if now && s.leases == nil { // with leases, it is made once owned
		if err := sv.Start(); err != nil {
			return err
		}
	}
	ctx, stop := context.WithCancelCause(s.ctx)
	st := &supervisedStream{Supervisor: sv, config: c, stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	s.streams[c.Name] = st
	s.mu.Unlock()
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer close(st.done)
		var err error
		if s.leases != nil {
			err = s.leases.own(ctx, st)
		} else {
			err = sv.Run(ctx)
		}
		switch {
		case err != nil:
			s.log.Error("a stream stopped; serving what it has", "stream", c.Name, "err", err)
			s.errsMu.Lock()
			s.errs = append(s.errs, err)
			s.errsMu.Unlock()
		case ctx.Err() == nil:
			s.log.Info("the input ended; serving the stream until stopped", "stream", c.Name)
		}
	}()
	return nil
}

// wait waits until every stream has stopped (the server's context ended)
// and returns their errors.
func (s *streamSet) wait() error {
	s.running.Wait()
	s.errsMu.Lock()
	defer s.errsMu.Unlock()
	return errors.Join(s.errs...)
}

// Stream returns the stream called name, once it has been made.
func (s *streamSet) Stream(name string) (*server.Stream, bool) {
	s.mu.Lock()
	st, ok := s.streams[name]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	v := st.serverView()
	return v, v.Playlist != nil
}

// All returns every stream, by name; one not made yet has only its name
// and state.
func (s *streamSet) All() []*server.Stream {
	s.mu.Lock()
	out := make([]*server.Stream, 0, len(s.streams))
	for _, st := range s.streams {
		out = append(out, st.serverView())
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *server.Stream) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// serverView is the stream made last, as the server serves it.
func (st *supervisedStream) serverView() *server.Stream {
	c := st.config
	v := &server.Stream{Name: st.Name(), State: st.state, Input: c.describe(), Size: c.Size.String(), FPS: c.FPS}
	if st.standby.Load() {
		return v // nothing of it is served here: the owner serves it
	}
	if cur := st.Current(); cur != nil {
		v.Playlist, v.Markers, v.Cache = cur.Playlist(), cur.Markers(), cur.Cache()
		v.Counters = func() server.Counters { return server.Counters(cur.Counters()) }
		v.Frames = cur.Frames()
		v.Clips = clip.New(cur.Playlist().SegmentAt)
	}
	return v
}

// state is the stream's state as the supervisor tells it, or Standby
// while another server owns it.
func (st *supervisedStream) state() (state, reason string) {
	if st.standby.Load() {
		return Standby, "another server owns the stream"
	}
	return st.State()
}

// Put starts the stream called name with settings, or replaces the one of
// that name, which stops without ending its playlist and hands its folder
// over: the new one goes on from it, with a discontinuity. The config file
// is written back first, so a restart runs what the API answered.
func (s *streamSet) Put(name string, settings []server.Setting) (bool, error) {
	if !streamName.MatchString(name) {
		return false, &server.InvalidError{Msg: fmt.Sprintf("stream %q: use 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter or digit", name)}
	}
	given := []setting{{key: "name", value: name}}
	for _, kv := range settings {
		switch {
		case kv.Key == "name" && kv.Value != name:
			return false, &server.InvalidError{Msg: fmt.Sprintf("name: %q differs from the stream the URL names, %q", kv.Value, name)}
		case kv.Key == "name":
			continue
		}
		given = append(given, setting{key: kv.Key, value: kv.Value})
	}
	c, err := parseStream(given, s.data)
	var ke *keyError
	switch {
	case errors.As(err, &ke):
		return false, &server.InvalidError{Msg: ke.msg}
	case err != nil:
		return false, err
	case c.stdin():
		return false, &server.InvalidError{Msg: "input: standard input cannot be given through the API"}
	}
	s.change.Lock()
	defer s.change.Unlock()
	s.file.putEntry(name, given)
	if err := s.file.save(); err != nil {
		return false, err
	}
	s.mu.Lock()
	old, replaced := s.streams[name]
	s.mu.Unlock()
	if replaced {
		old.stop(stream.ErrReplaced)
		<-old.done
	}
	return !replaced, s.start(c, false)
}

// Delete stops the stream called name, ending its playlist; it is served
// on as it is until the server stops. With purge its folder and markers
// are deleted, and it is served no more. Either way it leaves the config
// file.
func (s *streamSet) Delete(name string, purge bool) error {
	s.change.Lock()
	defer s.change.Unlock()
	s.mu.Lock()
	st, ok := s.streams[name]
	s.mu.Unlock()
	if !ok {
		// A stream deleted before a restart is served no more, but its
		// folder and markers stay until purged.
		if _, err := os.Stat(filepath.Join(s.data, name)); !purge || !streamName.MatchString(name) || err != nil {
			return server.ErrUnknownStream
		}
		return s.purge(name)
	}
	s.file.dropEntry(name)
	if err := s.file.save(); err != nil {
		return err
	}
	st.stop(context.Canceled)
	<-st.done
	if !purge {
		return nil
	}
	s.mu.Lock()
	delete(s.streams, name)
	s.mu.Unlock()
	return s.purge(name)
}

// purge deletes the folder, markers and series of the stream called name.
func (s *streamSet) purge(name string) error {
	s.metrics.Forget(name)
	if err := os.RemoveAll(filepath.Join(s.data, name)); err != nil {
		return err
	}
	return s.store.Purge(context.Background(), name)
}
