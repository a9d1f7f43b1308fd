// Package edge serves streams that other nodes encode: their playlists
// and segments as those nodes put them in the object store
// (playlist/bucket), their markers from the store the nodes share
// (marker/postgres), for any number of edge nodes behind any load
// balancer. An edge keeps nothing a request depends on: every answer
// comes from the bucket or the marker store, so any edge may answer any
// request.
package edge

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist/bucket"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/segcache"
)

// listFresh is how long a listing of the bucket's streams answers for: a
// name no stream has (a typo, a scanner) costs a listing per listFresh
// at most, not one per request, and a new stream shows within it.
const listFresh = 2 * time.Second

// Streams are the streams the bucket holds, each a folder under its
// prefix, as server.Streams. The folders are listed at each All and at
// each Stream asked for a name not seen yet, unless listed less than
// listFresh ago, so a stream shows on every edge within listFresh of its
// encoder's first upload. A stream's markers are served once its
// playlist, which carries the stream's epoch, is there.
type Streams struct {
	objects    *bucket.Store
	markers    marker.Store
	log        *slog.Logger
	cacheBytes int64 // of each stream's segment cache

	mu      sync.Mutex
	streams map[string]*server.Stream // every stream listed so far

	now      func() time.Time // the clock listings are dated by
	listMu   sync.Mutex       // held across a listing: one at a time
	names    []string         // the last listing's, sorted
	listedAt time.Time        // when it was made; zero before the first
}

// NewStreams returns the streams of objects, their markers kept in
// markers, each stream's newest segments kept in memory up to cacheBytes
// (see origin).
func NewStreams(objects *bucket.Store, markers marker.Store, cacheBytes int64, log *slog.Logger) *Streams {
	return &Streams{objects: objects, markers: markers, cacheBytes: cacheBytes, log: log, streams: map[string]*server.Stream{}, now: time.Now}
}

// Stream returns the stream called name, if the bucket holds it.
func (s *Streams) Stream(name string) (*server.Stream, bool) {
	s.mu.Lock()
	st, ok := s.streams[name]
	s.mu.Unlock()
	if ok && st.Markers != nil {
		return st, true
	}
	s.list(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok = s.streams[name]
	return st, ok
}

// All returns the streams the bucket holds now, by name.
func (s *Streams) All() []*server.Stream {
	names := s.list(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*server.Stream, 0, len(names))
	for _, n := range names {
		out = append(out, s.streams[n])
	}
	return out
}

// list returns the bucket's streams, sorted: the last listing's if made
// less than listFresh ago. A new listing makes the new streams, and the
// marker service of each that lacks one and whose epoch is now known. A
// failed listing is logged and lists none, for listFresh too: with the
// store down, none could be served.
func (s *Streams) list(ctx context.Context) []string {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if !s.listedAt.IsZero() && s.now().Sub(s.listedAt) < listFresh {
		return s.names
	}
	names, err := s.objects.Streams(ctx)
	s.names, s.listedAt = nil, s.now()
	if err != nil {
		s.log.Error("edge: list the streams", "err", err)
		return nil
	}
	slices.Sort(names)
	for _, n := range names {
		s.mu.Lock()
		st, ok := s.streams[n]
		s.mu.Unlock()
		if ok && st.Markers != nil {
			continue
		}
		o := &origin{objects: s.objects, stream: n, cache: segcache.New(s.cacheBytes), now: func() time.Time { return s.now() }}
		if ok {
			o = st.Origin.(*origin) // keeps its cache
		}
		st = &server.Stream{Name: n, Origin: o, State: live}
		epoch, err := s.objects.Epoch(ctx, n)
		switch {
		case err == nil:
			st.Markers = marker.NewService(marker.Config{Stream: n, Store: s.markers,
				Timeline: clock.Timeline{Epoch: epoch}, Clock: clock.Real{}, Log: s.log})
		case !errors.Is(err, bucket.ErrNoEpoch):
			s.log.Error("edge: read the stream's epoch", "stream", n, "err", err)
		}
		s.mu.Lock()
		if old, ok := s.streams[n]; !ok || old.Markers == nil {
			s.streams[n] = st
		}
		s.mu.Unlock()
	}
	s.names = names
	return names
}

// live is the state of every stream an edge serves: it cannot tell more
// than that the stream's files are there.
func live() (state, reason string) { return "live", "" }

// immutable is the Cache-Control the Mirror uploads segments with: a
// segment uploaded with it never changes, and is kept in memory.
const immutable = "public, max-age=31536000, immutable"

// changingFresh is how long an edge answers for a stream's playlist and
// init segments, which change, with what it last read of them: the
// requests of any number of viewers within it make one read of the
// bucket, where each made one before (a thousand a second for 2,000
// viewers on two edges). A player reloads the playlist once a target
// duration, a second or more: a copy at most this much older than the
// bucket's costs it little next to the upload that put it there.
const changingFresh = 250 * time.Millisecond

// origin is one stream's files in the bucket. Its newest segments are
// kept in memory (segcache evicts the oldest first: viewers are at the
// live edge), with the headers they were uploaded with; the playlist and
// the init segments, which change, are read from the bucket at most once
// per changingFresh, one read at a time.
type origin struct {
	objects *bucket.Store
	stream  string
	cache   *segcache.Cache
	now     func() time.Time

	mu   sync.Mutex // held across a read of a changing file
	read map[string]readFile
}

// readFile is a changing file as last read from the bucket, and when.
type readFile struct {
	file server.OriginFile
	at   time.Time
}

// File returns the stream's file called name, from memory or the bucket.
func (o *origin) File(ctx context.Context, name string) (server.OriginFile, error) {
	if seq, format, segment := segmentName(name); segment {
		return o.segment(ctx, name, seq, format)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.read[name]; ok && o.now().Sub(r.at) < changingFresh {
		return r.file, nil
	}
	f, err := o.get(ctx, name)
	if err != nil {
		return f, err
	}
	if o.read == nil {
		o.read = map[string]readFile{}
	}
	o.read[name] = readFile{file: f, at: o.now()}
	return f, nil
}

// segment returns the segment called name, number seq in format, from
// memory or from the bucket, kept in memory if it was uploaded immutable.
func (o *origin) segment(ctx context.Context, name string, seq media.Seq, format media.Format) (server.OriginFile, error) {
	if data, ok := o.cache.Get(seq); ok {
		return server.OriginFile{Data: data, ContentType: format.ContentType(), CacheControl: immutable}, nil
	}
	f, err := o.get(ctx, name)
	if err == nil && f.CacheControl == immutable && f.ContentType == format.ContentType() {
		o.cache.Put(seq, f.Data)
	}
	return f, err
}

// get reads the stream's file called name from the bucket.
func (o *origin) get(ctx context.Context, name string) (server.OriginFile, error) {
	obj, err := o.objects.Get(ctx, o.stream, name)
	if errors.Is(err, bucket.ErrNoObject) {
		return server.OriginFile{}, errors.Join(err, server.ErrNoFile)
	}
	if err != nil {
		return server.OriginFile{}, err
	}
	return server.OriginFile{Data: obj.Data, ContentType: obj.ContentType, CacheControl: obj.CacheControl}, nil
}

// segmentName returns the sequence number and format of a segment's
// file name; ok is false for any other name.
func segmentName(name string) (seq media.Seq, f media.Format, ok bool) {
	for _, f := range []media.Format{media.TS, media.FMP4} {
		if seq, ok := f.ParseSegmentName(name); ok {
			return seq, f, true
		}
	}
	return 0, 0, false
}
