package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/snapshot"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/playlist/bucket"
	"github.com/hlsmark/hlsmark/server/metrics"
	"github.com/hlsmark/hlsmark/server/segcache"
)

// Config configures a Stream.
type Config struct {
	// Name is the stream's name, as in its URLs.
	Name string
	// Dir is the stream's folder: segments, playlist, state and epoch.
	Dir string
	// Segment is the target segment duration.
	Segment time.Duration
	// Window is the DVR window the playlist spans.
	Window time.Duration
	// Grace is how long a segment stays on disk after leaving the window.
	Grace time.Duration
	// Retain and RetainSize keep segments on disk past the window, for VOD
	// playlists (playlist.Config.Retain, RetainSize).
	Retain     time.Duration
	RetainSize int64
	// MaxDateRanges bounds the markers the playlist lists at once; zero
	// means playlist.DefaultMaxDateRanges.
	MaxDateRanges int
	// CacheBytes bounds the memory that holds the newest segments' bytes
	// for the server to answer from (see Cache); 0 holds none.
	CacheBytes int64
	// Format is the segments' container: MPEG-TS (the zero value) or
	// fMP4. A folder keeps the format it was recorded in (see
	// playlist.FormatError).
	Format media.Format
	// Part, if positive, cuts fMP4 segments into Low-Latency HLS parts
	// of at most that long (muxer.Config.Part), listed by the playlist.
	Part time.Duration
	// Encoder configures libx264. With Copy, only its Size and FPS are
	// read: they describe the video to the muxer.
	Encoder pipeline.EncoderConfig
	// Copy passes the source's H.264 through (--codec copy): the source
	// hands out packets (pipeline.Frame.Coded), pipeline.Passthrough
	// forwards them, and segments start at the source's keyframes, so
	// Segment must fit its GOPs (muxer.CopyTarget). No detector can run:
	// Detector must be nil.
	Copy bool
	// Source makes the stream's source, once the stream's timeline (read
	// from the folder, or new) and where its recorded segments end are
	// known.
	Source func(pipeline.Start) (pipeline.Source, error)
	// Detector makes the detector that looks at the frames
	// (pipeline.NewMintDetector, a pipeline.MotionConfig's New); nil runs
	// none: markers come only from the API.
	Detector pipeline.NewDetector
	// Clock is the generator clock the source and the marker service read.
	Clock clock.Clock
	// Epoch is the wall-clock time of PTS 0 for a stream whose folder has
	// no epoch yet; zero means the clock's reading at New. An existing
	// folder keeps its own.
	Epoch time.Time
	// Store keeps the markers; it may be shared by several streams.
	Store marker.Store
	// Metrics, if set, is where the stream counts, under its name (shared
	// by the streams of a server); nil makes the stream its own.
	Metrics *metrics.Metrics
	// Log receives the stream's log lines; nil means slog.Default().
	Log *slog.Logger
	// Notifier, if set, is told of every change to the stream's markers.
	Notifier MarkerNotifier
	// Observe, if set, is told of what the stream makes, for tests and
	// benchmarks.
	Observe Observer
	// Bucket, if set, is where the stream's segments and playlist are
	// copied after the disk (--segments s3://...): see playlist/bucket.
	Bucket *bucket.Store
	// Faults, if set, are where tests break the stream's path to disk.
	Faults Faults
	// Supervised leaves the playlist open (no EXT-X-ENDLIST) when the
	// pipeline fails (the encoder, the path to disk): a Supervisor makes
	// the stream again, and the playlist goes on. An input that ends or
	// fails, and a stop, still end the playlist.
	Supervised bool
}

// MarkerNotifier tells the world outside of changes to a stream's markers
// (webhooks, MQTT).
type MarkerNotifier interface {
	// Resume is called once the stream's marker service is made, before
	// it makes or takes any change: it tells of changes an earlier run
	// stored but did not tell (it was killed in between).
	Resume(ctx context.Context, svc *marker.Service) error
	// Changed is told of every change, with the stream's marker service,
	// once the store has it and before it is acknowledged
	// (marker.Config.OnChange).
	Changed(ctx context.Context, svc *marker.Service, c marker.Change) error
}

// Faults are hooks on the stream's path to disk, for tests that stop the
// process or fail a write at a chosen point. Each may be nil.
type Faults struct {
	// SegmentStep is muxer.Config.AtStep.
	SegmentStep func(muxer.Step, media.Segment)
	// WriteFile is playlist.Config.WriteFile: it writes the playlist and
	// its state file.
	WriteFile func(path string, data []byte) error
}

// Observer are callbacks told of what a stream makes, on the goroutine
// that made it. Each may be nil.
type Observer struct {
	// Frame is called with every frame after detection, before encoding.
	Frame func(*pipeline.Frame)
	// Segment is called with every segment once the playlist lists it.
	Segment func(media.Segment)
}

// Stream is one running stream: its pipeline, its playlist and its
// markers.
type Stream struct {
	cfg      Config
	timeline clock.Timeline
	source   pipeline.Source
	encoder  pipeline.Coder
	muxer    *muxer.Muxer
	playlist *playlist.Playlist
	pipeline *pipeline.Pipeline
	markers  *marker.Service
	keeper   *snapshot.Keeper // nil without a detector
	frames   *snapshot.Frames
	metrics  *metrics.Metrics
	counts   *metrics.Stream // the stream's series in metrics
	cache    *segcache.Cache
	mirror   *bucket.Mirror // nil without Config.Bucket

	freeOnce    sync.Once
	stallTime   time.Duration
	lastFrame   atomic.Int64           // when the last frame came, as ns since the epoch
	lastSegment atomic.Int64           // when the last segment was listed (or the stream made), likewise
	segments    atomic.Uint64          // segments listed
	problem     atomic.Pointer[string] // the latest thing that went wrong
	failure     atomic.Pointer[pipeline.SourceError]
}

// New wires the stream's stages. Nothing runs until Run.
func New(cfg Config) (_ *Stream, err error) {
	if cfg.Source == nil || cfg.Clock == nil || cfg.Store == nil {
		return nil, errors.New("stream: Source, Clock and Store are required")
	}
	if cfg.Copy && cfg.Detector != nil {
		return nil, errors.New("stream: a detector needs pictures, and Copy passes packets through")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New(metrics.Config{Segments: []time.Duration{cfg.Segment}})
	}
	s := &Stream{cfg: cfg,
		metrics:   cfg.Metrics,
		counts:    cfg.Metrics.Stream(cfg.Name),
		cache:     segcache.New(cfg.CacheBytes),
		stallTime: max(time.Second, 5*time.Second/time.Duration(max(cfg.Encoder.FPS, 1)))}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	if s.timeline, err = loadTimeline(cfg.Dir, cfg.Clock, cfg.Epoch, cfg.Log); err != nil {
		return nil, fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	s.lastFrame.Store(s.sinceEpoch())
	s.lastSegment.Store(s.sinceEpoch())
	pcfg := playlist.Config{Dir: cfg.Dir, Window: cfg.Window, Grace: cfg.Grace, Target: cfg.Segment, Now: cfg.Clock.Now,
		Retain: cfg.Retain, RetainSize: cfg.RetainSize, Format: cfg.Format, Part: cfg.Part,
		MaxDateRanges: cfg.MaxDateRanges, WriteFile: cfg.Faults.WriteFile,
		Deleted: func(seg media.Segment) { s.cache.Drop(seg.Seq); s.counts.SegmentDeleted() }}
	if cfg.Bucket != nil {
		s.mirror = s.newMirror(&pcfg)
	}
	if s.playlist, err = playlist.New(pcfg); err != nil {
		return nil, err
	}
	if s.mirror != nil {
		s.mirror.Wrote(s.playlist.Snapshot()) // what an earlier run left: uploaded unless the bucket has it
	}
	swept, err := muxer.Sweep(cfg.Dir, func(seq media.Seq) bool { _, ok := s.playlist.Segment(seq); return ok })
	if err != nil {
		return nil, err
	}
	if len(swept.Removed) > 0 {
		cfg.Log.Info("reconciled the stream folder with its playlist: removed files it never listed",
			"stream", cfg.Name, "files", swept.Removed)
	}
	// Numbering goes on from the playlist's record: a segment file past it
	// was never listed, so its number is free again. Without a record (a
	// new stream, or a state file lost), past every file found.
	first := s.playlist.NextSeq()
	if first == 0 {
		first = swept.Next
	}
	if s.source, err = cfg.Source(pipeline.Start{Clock: cfg.Clock, Timeline: s.timeline, Resume: s.playlist.End(), Dir: cfg.Dir}); err != nil {
		return nil, err
	}
	if s.encoder, err = newCoder(cfg); err != nil {
		s.closeSource()
		return nil, err
	}
	defer func() {
		if err != nil {
			s.encoder.Close()
			if s.muxer != nil {
				_ = s.muxer.Close()
			}
			s.closeSource()
		}
	}()
	if cfg.Detector != nil {
		if s.keeper, err = snapshot.NewKeeper(snapshot.KeeperConfig{Dir: cfg.Dir, Size: cfg.Encoder.Size,
			OnError: func(pts clock.Ticks, err error) {
				cfg.Log.Warn("detector frame not kept: its marker's thumbnail is decoded from the segment", "stream", cfg.Name, "pts", int64(pts), "err", err)
			}}); err != nil {
			return nil, err
		}
	}
	s.frames = snapshot.NewFrames(snapshot.Config{Dir: cfg.Dir, Size: cfg.Encoder.Size, Segment: s.playlist.SegmentAt, Keeper: s.keeper})
	s.markers = marker.NewService(marker.Config{
		Stream: cfg.Name, Store: cfg.Store, Playlist: s.playlist, Timeline: s.timeline, Clock: cfg.Clock, Log: cfg.Log,
		Present: present(s.source),
		OnAdded: func(m marker.Marker) {
			if m.Source == marker.FromDetector {
				s.counts.MarkerDetected()
			} else {
				s.counts.MarkerPosted()
			}
		},
		OnEdited:   func(marker.Marker) { s.counts.MarkerEdited() },
		OnDeleted:  func(marker.Marker) { s.counts.MarkerDeleted() },
		OnUnlisted: s.counts.DateRangeUnlisted,
		OnChange:   s.markerChanged,
	})

	if s.muxer, err = muxer.New(muxer.Config{
		Dir: cfg.Dir, Target: cfg.Segment, FirstSeq: first, Format: cfg.Format, Size: cfg.Encoder.Size, FPS: cfg.Encoder.FPS, Timeline: s.timeline,
		Publish: s.publish, AtStep: cfg.Faults.SegmentStep,
		Part: cfg.Part, PublishPart: s.publishPart,
		OnOverlong: func(seq media.Seq, d clock.Ticks) {
			s.counts.SegmentOverlong()
			cfg.Log.Warn("a copied GOP outlasts the target duration: no keyframe to cut the segment at",
				"stream", cfg.Name, "seq", seq, "duration", d.Duration(), "target", cfg.Segment)
		},
		OnError: func(err error) {
			s.counts.SegmentFailed()
			s.report("segment lost: " + err.Error())
			cfg.Log.Error("segment lost", "stream", cfg.Name, "err", err)
		},
	}); err != nil {
		return nil, err
	}
	if cfg.Notifier != nil {
		if err := cfg.Notifier.Resume(context.Background(), s.markers); err != nil {
			return nil, fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
	}
	if err := s.markers.Restore(context.Background()); err != nil {
		return nil, err
	}
	s.pipeline = &pipeline.Pipeline{
		Source:      s.source,
		Encoder:     s.encoder,
		Sink:        s.muxer,
		Detector:    cfg.Detector,
		OnDetection: s.detected,
		OnFrame:     s.onFrame(),
		OnEncoded:   func(_ *pipeline.Frame, took time.Duration) { s.counts.FrameEncoded(took) },
		OnReject: func(f *pipeline.Frame, err error) {
			s.counts.FrameRejected()
			s.report("frame rejected: " + err.Error())
			cfg.Log.Error("frame rejected", "stream", cfg.Name, "pts", int64(f.PTS), "err", err)
		},
	}
	return s, nil
}

// detected keeps the picture of the frame an event opened in (the
// marker's thumbnail), then has the marker service make or close its
// marker.
func (s *Stream) detected(d media.Detection, f *pipeline.Frame) {
	if d.Kind == media.Opened && f != nil && s.keeper != nil {
		s.keeper.Keep(f)
	}
	s.markers.Detected(d)
}

// newCoder returns the stream's encoding stage: libx264, or with Copy the
// passthrough of the source's packets.
func newCoder(cfg Config) (pipeline.Coder, error) {
	if cfg.Copy {
		return pipeline.Passthrough{}, nil
	}
	enc, err := pipeline.NewEncoder(cfg.Encoder)
	if err != nil {
		return nil, err
	}
	return enc, nil
}

// present returns the marker service's Present for src: the newest PTS of
// a source that stamps its own frames, nil for any other.
func present(src pipeline.Source) func() (clock.Ticks, bool) {
	if st, ok := src.(pipeline.Stamped); ok {
		return st.Newest
	}
	return nil
}

// publish lists a finished segment. A failed playlist write or segment
// deletion is logged, not fatal: the segment is listed in memory, and the
// next write may succeed.
func (s *Stream) publish(seg media.Segment) error {
	s.cacheSegment(seg)
	if err := s.playlist.Add(seg); err != nil {
		s.report(err.Error())
		s.cfg.Log.Error("playlist", "stream", s.cfg.Name, "err", err)
	}
	s.lastSegment.Store(s.sinceEpoch())
	s.segments.Add(1)
	s.counts.SegmentPublished(seg.Start, time.Now())
	s.markers.Published(seg)
	if s.cfg.Observe.Segment != nil {
		s.cfg.Observe.Segment(seg)
	}
	s.cfg.Log.Debug("segment", "stream", s.cfg.Name, "seq", seg.Seq, "pts", int64(seg.FirstPTS), "duration", seg.Duration.Duration(), "bytes", seg.Size)
	return nil
}

// publishPart lists a part of the segment being written and has the marker
// service place the markers its frames show.
func (s *Stream) publishPart(part media.Part) error {
	if err := s.playlist.AddPart(part); err != nil {
		return err
	}
	s.markers.PartListed(part)
	return nil
}

// cacheSegment puts the segment's bytes in the cache before the playlist
// lists it, so that the server answers every request for it from memory.
// The file was just written: reading it back comes from the page cache. A
// failed read costs only speed (the server reads the file instead), so it
// is logged, not returned.
func (s *Stream) cacheSegment(seg media.Segment) {
	if s.cache == nil {
		return
	}
	data, err := os.ReadFile(seg.Path)
	if err != nil {
		s.cfg.Log.Warn("segment not cached", "stream", s.cfg.Name, "seq", seg.Seq, "err", err)
		return
	}
	s.cache.Put(seg.Seq, data)
}

// onFrame returns the pipeline's OnFrame hook: it notes when the frame came
// (see Stalled) and passes the frames the source skipped since the last
// one to the metrics.
func (s *Stream) onFrame() func(*pipeline.Frame) {
	var seen uint64
	return func(f *pipeline.Frame) {
		s.lastFrame.Store(s.sinceEpoch())
		n := s.source.Late()
		s.counts.FramesLate(n - seen)
		seen = n
		if s.cfg.Observe.Frame != nil {
			s.cfg.Observe.Frame(f)
		}
	}
}

// Run runs the pipeline until ctx ends or the source does (io.EOF), then closes the
// playlist with EXT-X-ENDLIST, lets the marker service finish its queue,
// waits for the playlist's last writes, and frees the encoder. Call it
// once. A source that fails (a read or decode error) ends the stream the
// same way: the failure is logged and kept for Failed, and Run returns
// nil unless the encoder, the sink or the playlist failed too. A
// Supervised stream whose pipeline fails leaves its playlist open for the
// stream its Supervisor makes next.
func (s *Stream) Run(ctx context.Context) error {
	defer s.Close()
	mctx, stopMarkers := context.WithCancel(context.WithoutCancel(ctx))
	markersDone := make(chan struct{})
	go func() {
		defer close(markersDone)
		s.markers.Run(mctx)
	}()
	if s.keeper != nil {
		go s.keeper.Run()
	}
	if s.mirror != nil {
		defer s.runMirror(ctx)()
	}
	err := s.pipeline.Run(ctx)
	if s.keeper != nil {
		s.keeper.Close() // the pictures of the last detections written
	}
	var srcErr *pipeline.SourceError
	if errors.As(err, &srcErr) {
		s.failure.Store(srcErr)
		s.cfg.Log.Error("the source failed: the stream ends with what it has", "stream", s.cfg.Name, "err", srcErr.Err)
		if err == error(srcErr) {
			err = nil // a state of the stream (Failed), not a failure of Run
		}
	}
	// A supervised stream whose pipeline failed is made again, and a
	// replaced one goes on as its replacement: their playlist goes on.
	replaced := errors.Is(context.Cause(ctx), ErrReplaced)
	if keepOpen := replaced || s.cfg.Supervised && err != nil && ctx.Err() == nil; !keepOpen {
		if cerr := s.playlist.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	stopMarkers()
	<-markersDone
	// The markers closed last (cut at the stream's end) on disk too.
	if ferr := s.playlist.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.cfg.Name, err)
	}
	return nil
}

// ErrReplaced is the cause to cancel a stream's context with when another
// stream takes over its folder (context.WithCancelCause): the stream stops
// without ending its playlist, which the next one goes on with.
var ErrReplaced = errors.New("stream replaced")

// Close frees the stream's libav state. Run does it when it ends; call
// Close for a stream that will not run. (The muxer, closed by the pipeline
// when it ran, holds no segment then: closing it again only frees.)
func (s *Stream) Close() {
	s.freeOnce.Do(func() {
		s.encoder.Close()
		_ = s.muxer.Close()
		s.closeSource()
	})
}

// closeSource frees the source's libav state, if it holds any (as the
// file source does).
func (s *Stream) closeSource() {
	if c, ok := s.source.(interface{ Close() }); ok {
		c.Close()
	}
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.cfg.Name }

// Dir returns the stream's folder.
func (s *Stream) Dir() string { return s.cfg.Dir }

// Playlist returns the stream's playlist.
func (s *Stream) Playlist() *playlist.Playlist { return s.playlist }

// Markers returns the stream's marker service.
func (s *Stream) Markers() *marker.Service { return s.markers }

// markerChanged tells cfg.Notifier of a change to the stream's markers.
// It runs only once New has made the service: changes come from its jobs,
// Restore and the API.
func (s *Stream) markerChanged(ctx context.Context, c marker.Change) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	return s.cfg.Notifier.Changed(ctx, s.markers, c)
}

// Frames returns the JPEG pictures of the stream's frames (thumbnails).
func (s *Stream) Frames() *snapshot.Frames { return s.frames }

// Cache returns the cache of the stream's newest segments, filled as they
// are written and emptied as the playlist deletes them; nil if
// Config.CacheBytes is 0.
func (s *Stream) Cache() *segcache.Cache { return s.cache }

// Metrics returns the metrics the stream counts in: Config.Metrics, or
// its own.
func (s *Stream) Metrics() *metrics.Metrics { return s.metrics }

// Timeline returns the stream's timeline: its epoch is the wall-clock time
// of PTS 0.
func (s *Stream) Timeline() clock.Timeline { return s.timeline }

// Counters are a stream's running totals since it was made.
type Counters struct {
	FramesEncoded, FramesLate, FramesRejected, SegmentsWritten uint64
}

// Counters returns the stream's running totals.
func (s *Stream) Counters() Counters {
	return Counters{
		FramesEncoded:   s.pipeline.Stats.Frames.Load(),
		FramesLate:      s.source.Late(),
		FramesRejected:  s.pipeline.Stats.Rejected.Load(),
		SegmentsWritten: s.segments.Load(),
	}
}

// Stats returns the pipeline's counters.
func (s *Stream) Stats() *pipeline.Stats { return &s.pipeline.Stats }

// stalledAfter is how many target durations may pass without a segment
// before a stream counts as stalled.
const stalledAfter = 3

// Stalled reports whether the stream has listed no segment for three
// target durations, and if so why, as far as the stream knows: the source
// stopped delivering frames, or the latest error on the segment's path
// (a full disk, an encoder error).
func (s *Stream) Stalled() (bool, string) {
	now := s.sinceEpoch()
	quiet := time.Duration(now - s.lastSegment.Load())
	if quiet <= stalledAfter*s.cfg.Segment {
		return false, ""
	}
	if gap := time.Duration(now - s.lastFrame.Load()); gap > s.stallTime {
		return true, fmt.Sprintf("no frame from the source for %s", gap.Round(100*time.Millisecond))
	}
	if p := s.problem.Load(); p != nil {
		return true, *p
	}
	return true, fmt.Sprintf("no segment listed for %s", quiet.Round(100*time.Millisecond))
}

// Failed returns the source's error that ended the stream, nil while
// the stream runs and after it ended any other way.
func (s *Stream) Failed() error {
	if e := s.failure.Load(); e != nil {
		return e.Err
	}
	return nil
}

// Reconnecting returns why the stream's source lost its input while it
// reconnects (a network input or a camera, see pipeline.Reconnector), nil
// while it delivers frames and for a source that never reconnects.
func (s *Stream) Reconnecting() error {
	if r, ok := s.source.(pipeline.Reconnector); ok {
		return r.Reconnecting()
	}
	return nil
}

// State returns the stream's state and, for a failed, reconnecting or
// stalled one, why (see judge).
func (s *Stream) State() (state, reason string) {
	stalled, why := s.Stalled()
	return judge(conditions{
		failed: s.Failed(), ended: s.playlist.Closed(), lost: s.Reconnecting(),
		stalled: stalled, why: why, listed: len(s.playlist.Segments()) > 0,
	})
}

// conditions are what a stream's state is judged from.
type conditions struct {
	failed  error  // the source's error that ended it (Failed)
	ended   bool   // its playlist has EXT-X-ENDLIST
	lost    error  // why its input is being reconnected (Reconnecting)
	stalled bool   // no segment listed for a while (Stalled)
	why     string // why it stalled, when known
	listed  bool   // its playlist lists a segment
}

// judge returns the state c makes, and why: a failed source outranks
// everything; an ended playlist outranks what ended it; a reconnecting
// input outranks the stall it causes; a stream that lists nothing yet,
// and is not stalled, is starting.
func judge(c conditions) (state, reason string) {
	switch {
	case c.failed != nil:
		return Failed, c.failed.Error()
	case c.ended:
		return Ended, ""
	case c.lost != nil:
		return Reconnecting, c.lost.Error()
	case c.stalled:
		return Stalled, c.why
	case !c.listed:
		return Starting, ""
	}
	return Live, ""
}

// report keeps what went wrong, for Stalled to tell.
func (s *Stream) report(what string) {
	s.problem.Store(&what)
}

// sinceEpoch reads the generator clock as nanoseconds since the epoch.
func (s *Stream) sinceEpoch() int64 {
	return int64(s.cfg.Clock.Now().Sub(s.timeline.Epoch))
}
