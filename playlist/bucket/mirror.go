package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// What the objects are, and how long caches may keep them: a segment never
// changes once written; the playlist changes with every segment, an fMP4
// stream's init segment with every run. A segment's media type is its
// format's (media.Format.ContentType).
const (
	segmentCache  = "public, max-age=31536000, immutable"
	playlistType  = "application/vnd.apple.mpegurl"
	playlistCache = "no-cache"
	initCache     = "no-cache"
)

// Retries: a failed request is tried again after retryFirst, doubling up
// to retryMost, for as long as the Mirror runs. Each request gives up
// after requestTimeout, so a store that stopped answering counts as failed.
const (
	retryFirst     = 100 * time.Millisecond
	retryMost      = 2 * time.Second
	requestTimeout = 10 * time.Second
)

// MirrorConfig configures a Mirror.
type MirrorConfig struct {
	// Stream is the stream's name: its objects are PREFIX/STREAM/N.ts and
	// PREFIX/STREAM/index.m3u8.
	Stream string
	// Target is the segment duration: uploads further behind than that
	// are reported.
	Target time.Duration
	// Format is the stream's segment format: it names the objects.
	Format media.Format
	// SweepEvery is how often, when it has nothing else to do, the Mirror
	// lists the bucket for segment objects older than its playlist's and
	// deletes them: a deletion lost to a crash, or an upload the store
	// finished after the Mirror gave up on it and deleted the segment.
	// Zero means DefaultSweepEvery.
	SweepEvery time.Duration
	// Log receives the Mirror's log lines; nil means slog.Default().
	Log *slog.Logger
	// OnLag, if set, is told how far uploads are behind, at least every
	// quarter of Target: the age of the oldest segment or playlist not
	// yet uploaded, 0 when none is waiting.
	OnLag func(time.Duration)
	// OnFailed, if set, is told of every failed request.
	OnFailed func()
	// OnUploaded, if set, is told of every segment uploaded how long it
	// took: from its queueing (Wrote: its file complete, the playlist
	// listing it written) to its object stored, retries and the uploads
	// queued before it included.
	OnUploaded func(took time.Duration)
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
	// Epoch, if set, is the wall-clock time of the stream's PTS 0: the
	// playlist carries it (see Store.Epoch), so that a node that reads
	// the stream from the bucket shares its timeline.
	Epoch time.Time
}

// DefaultSweepEvery is MirrorConfig.SweepEvery's default.
const DefaultSweepEvery = time.Minute

// Mirror keeps one stream's segments and playlist in the bucket, following
// the playlist's writes (Wrote), deletions (Deleted) and holding deletions
// of what is not uploaded yet (Hold): set those as the playlist's
// Config.Wrote, Config.Deleted and Config.Hold. One goroutine (Run) makes
// the requests, one at a time, in the order the package comment gives.
type Mirror struct {
	store  *Store
	cfg    MirrorConfig
	prefix string        // PREFIX/STREAM/
	wake   chan struct{} // a job came

	mu      sync.Mutex
	resumed bool      // the bucket was listed: queue holds what it lacks
	next    media.Seq // every segment below it is queued or uploaded
	queue   []waiting // segments to upload, oldest first
	list    *listing  // the newest playlist not yet uploaded; nil if none
	first   media.Seq // the oldest segment the playlist in the bucket lists
	listed  bool      // a playlist was uploaded: first is known
	doomed  []media.Seq
	// doomedInits are the runs whose init segment objects no segment
	// object plays after any more (see sweep).
	doomedInits []media.Seq
	idle        []chan struct{} // closed once nothing waits to upload (Drain)
	behind      bool            // the lag was past Target when last looked at

	// initUp is the version of each init segment last uploaded, by file
	// name (Run's goroutine only).
	initUp    map[string]fileStamp
	lastSweep time.Time // when the bucket was last listed
	// offDiskTo is the newest segment the playlist deleted from the disk
	// (it deletes oldest first), if offDisk: every segment up to it is
	// past its grace, and its object may go.
	offDisk   bool
	offDiskTo media.Seq
}

// fileStamp tells a file's versions apart: an fMP4 stream's init segment
// is written anew each run.
type fileStamp struct {
	size    int64
	modTime time.Time
}

// waiting is a segment to upload, queued at since.
type waiting struct {
	seg   media.Segment
	since time.Time
}

// listing is a playlist to upload, and the segments it lists.
type listing struct {
	encoded     []byte
	first, last media.Seq // listed; with none, first is where the next one starts and last is below it
	since       time.Time
}

// NewMirror returns a Mirror of one stream in s. Nothing is sent until Run.
func (s *Store) NewMirror(cfg MirrorConfig) *Mirror {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = DefaultSweepEvery
	}
	return &Mirror{store: s, cfg: cfg, prefix: s.loc.Prefix + cfg.Stream + "/", wake: make(chan struct{}, 1)}
}

// Wrote queues what the playlist just wrote: its new segments, then
// itself. It never waits on the store. Before Run, call it with the
// playlist as found on disk (playlist.Playlist.Snapshot): Run uploads what
// of it the bucket lacks.
func (m *Mirror) Wrote(snap playlist.Snapshot) {
	m.mu.Lock()
	m.queueLocked(snap)
	m.mu.Unlock()
	m.poke()
}

func (m *Mirror) queueLocked(snap playlist.Snapshot) {
	now := m.cfg.Now()
	for _, list := range [][]media.Segment{snap.Retired, snap.Listed} {
		for _, s := range list {
			if s.Seq >= m.next {
				m.queue = append(m.queue, waiting{seg: s, since: now})
				m.next = s.Seq + 1
			}
		}
	}
	if snap.Encoded == nil {
		return
	}
	l := &listing{encoded: snap.Encoded, first: m.next, last: m.next - 1, since: now}
	if n := len(snap.Listed); n > 0 {
		l.first, l.last = snap.Listed[0].Seq, snap.Listed[n-1].Seq
	}
	if m.list != nil {
		l.since = m.list.since // waiting since the oldest not uploaded
	}
	m.list = l
}

// Deleted queues the deletion of the object of a segment whose file the
// playlist deleted.
func (m *Mirror) Deleted(seg media.Segment) {
	m.mu.Lock()
	m.doomed = append(m.doomed, seg.Seq)
	if !m.offDisk || seg.Seq > m.offDiskTo {
		m.offDisk, m.offDiskTo = true, seg.Seq
	}
	m.mu.Unlock()
	m.poke()
}

// Hold reports whether seg's file must stay on disk: it is not uploaded
// yet (or the bucket is not listed yet, so it is not known). Segments go
// up oldest first, so every segment from the oldest waiting one on is
// held.
func (m *Mirror) Hold(seg media.Segment) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.resumed || seg.Seq >= m.next || (len(m.queue) > 0 && seg.Seq >= m.queue[0].seg.Seq)
}

func (m *Mirror) poke() {
	select {
	case m.wake <- struct{}{}:
	default: // already woken
	}
}

// Run lists the bucket, then uploads and deletes until ctx ends. Requests
// that fail are retried (see retryFirst); Run returns only when ctx ends.
func (m *Mirror) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.watch(ctx)
	}()
	defer wg.Wait()
	if m.retry(ctx, "list the bucket", m.resume) != nil {
		return
	}
	for {
		what, do := m.take()
		if do == nil {
			sweep := time.NewTimer(m.cfg.SweepEvery)
			select {
			case <-m.wake:
			case <-sweep.C:
			case <-ctx.Done():
				sweep.Stop()
				return
			}
			sweep.Stop()
			continue
		}
		if m.retry(ctx, what, do) != nil {
			return
		}
	}
}

// Drain waits until every segment and playlist queued is uploaded, or ctx
// ends. Deletions may still wait.
func (m *Mirror) Drain(ctx context.Context) error {
	m.mu.Lock()
	if len(m.queue) == 0 && m.list == nil {
		m.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	m.idle = append(m.idle, done)
	m.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bucket: stream %s: %d segments not uploaded: %w", m.cfg.Stream, m.queued(), ctx.Err())
	}
}

func (m *Mirror) queued() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue)
}

// take returns the next request to make, and what it does for the log; a
// nil func when there is none. A playlist goes up as soon as every
// segment it lists is up; a segment's object goes once the playlist in
// the bucket no longer lists it.
func (m *Mirror) take() (string, func(context.Context) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.list; l != nil && (len(m.queue) == 0 || m.queue[0].seg.Seq > l.last) {
		return "upload the playlist", func(ctx context.Context) error { return m.putPlaylist(ctx, l) }
	}
	if len(m.queue) > 0 {
		w := m.queue[0]
		return "upload segment " + strconv.FormatUint(uint64(w.seg.Seq), 10), func(ctx context.Context) error { return m.putSegment(ctx, w) }
	}
	for _, c := range m.idle {
		close(c)
	}
	m.idle = nil
	if len(m.doomed) > 0 && m.listed && m.doomed[0] < m.first {
		seq := m.doomed[0]
		return "delete segment " + strconv.FormatUint(uint64(seq), 10), func(ctx context.Context) error { return m.remove(ctx, seq) }
	}
	if len(m.doomedInits) > 0 {
		run := m.doomedInits[0]
		return "delete init segment " + media.RunInitName(run), func(ctx context.Context) error { return m.removeInit(ctx, run) }
	}
	if m.listed && len(m.doomed) == 0 && m.cfg.Now().Sub(m.lastSweep) >= m.cfg.SweepEvery {
		return "list the bucket for stray segments", m.sweep
	}
	return "", nil
}

func (m *Mirror) putSegment(ctx context.Context, w waiting) error {
	s := w.seg
	if s.Format == media.FMP4 {
		// The run's own init segment, which the playlist names once a
		// later run began, and init.mp4, the current run's.
		for _, name := range []string{media.RunInitName(s.Init), media.InitName} {
			if err := m.putInit(ctx, filepath.Join(filepath.Dir(s.Path), name)); err != nil {
				return err
			}
		}
	}
	_, err := m.store.client.FPutObject(ctx, m.store.loc.Bucket, m.prefix+s.Name(), s.Path,
		minio.PutObjectOptions{ContentType: s.Format.ContentType(), CacheControl: segmentCache})
	if errors.Is(err, fs.ErrNotExist) {
		// Not on disk (the playlist keeps a file until its upload is
		// done, so someone else removed it): there is nothing to upload,
		// and waiting would stop every upload after it.
		m.cfg.Log.Error("segment file gone before its upload: skipped", "stream", m.cfg.Stream, "seq", s.Seq, "err", err)
		m.failed()
		m.dequeue()
		return nil
	}
	if err != nil {
		return err
	}
	m.dequeue()
	if m.cfg.OnUploaded != nil {
		m.cfg.OnUploaded(m.cfg.Now().Sub(w.since))
	}
	return nil
}

// dequeue drops the oldest queued segment, done with.
func (m *Mirror) dequeue() {
	m.mu.Lock()
	m.queue = m.queue[1:]
	m.mu.Unlock()
}

// putInit uploads the init segment at path, under its file name, unless
// the version on disk is the one uploaded last under that name: fMP4
// segments play after it, so it goes up before them, and so before any
// playlist listing one. A restart writes init.mp4 anew, and the first
// segment after goes up after the new one.
func (m *Mirror) putInit(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("bucket: init segment: %w", err)
	}
	name := filepath.Base(path)
	stamp := fileStamp{size: fi.Size(), modTime: fi.ModTime()}
	if stamp == m.initUp[name] {
		return nil
	}
	if _, err := m.store.client.FPutObject(ctx, m.store.loc.Bucket, m.prefix+name, path,
		minio.PutObjectOptions{ContentType: media.InitType, CacheControl: initCache}); err != nil {
		return err
	}
	if m.initUp == nil {
		m.initUp = map[string]fileStamp{}
	}
	m.initUp[name] = stamp
	return nil
}

func (m *Mirror) putPlaylist(ctx context.Context, l *listing) error {
	_, err := m.store.client.PutObject(ctx, m.store.loc.Bucket, m.prefix+playlist.FileName, bytes.NewReader(l.encoded), int64(len(l.encoded)),
		minio.PutObjectOptions{ContentType: playlistType, CacheControl: playlistCache, UserMetadata: epochMeta(m.cfg.Epoch)})
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.list == l {
		m.list = nil
	}
	m.first, m.listed = l.first, true
	m.mu.Unlock()
	return nil
}

func (m *Mirror) remove(ctx context.Context, seq media.Seq) error {
	if err := m.store.client.RemoveObject(ctx, m.store.loc.Bucket, m.prefix+m.cfg.Format.SegmentName(seq), minio.RemoveObjectOptions{}); err != nil {
		return err
	}
	m.mu.Lock()
	m.doomed = m.doomed[1:]
	m.mu.Unlock()
	return nil
}

func (m *Mirror) removeInit(ctx context.Context, run media.Seq) error {
	if err := m.store.client.RemoveObject(ctx, m.store.loc.Bucket, m.prefix+media.RunInitName(run), minio.RemoveObjectOptions{}); err != nil {
		return err
	}
	m.mu.Lock()
	m.doomedInits = m.doomedInits[1:]
	m.mu.Unlock()
	return nil
}

// resume lists the stream's objects: a queued segment the bucket has is
// not uploaded again, and a segment object older than every segment on
// disk (its deletion was lost to a restart) is deleted.
func (m *Mirror) resume(ctx context.Context) error {
	have, _, err := m.listObjects(ctx)
	if err != nil {
		return err
	}
	var stale []media.Seq
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSweep = m.cfg.Now()
	oldest := m.next // the oldest segment on disk: the first queued
	if len(m.queue) > 0 {
		oldest = m.queue[0].seg.Seq
	}
	for seq := range have {
		if seq < oldest {
			stale = append(stale, seq)
		}
	}
	slices.Sort(stale)
	m.doomed = append(stale, m.doomed...)
	kept := m.queue[:0]
	for _, w := range m.queue {
		if !have[w.seg.Seq] {
			kept = append(kept, w)
		}
	}
	m.queue = kept
	m.resumed = true
	return nil
}

// listObjects returns the segment objects the bucket holds for the stream,
// and the runs whose init segment objects (media.RunInitName) it holds.
func (m *Mirror) listObjects(ctx context.Context) (map[media.Seq]bool, []media.Seq, error) {
	have := map[media.Seq]bool{}
	var runs []media.Seq
	for obj := range m.store.client.ListObjects(ctx, m.store.loc.Bucket, minio.ListObjectsOptions{Prefix: m.prefix}) {
		if obj.Err != nil {
			return nil, nil, obj.Err
		}
		name := strings.TrimPrefix(obj.Key, m.prefix)
		if seq, ok := m.cfg.Format.ParseSegmentName(name); ok {
			have[seq] = true
		} else if run, ok := media.ParseRunInitName(name); ok {
			runs = append(runs, run)
		}
	}
	return have, runs, nil
}

// sweep lists the bucket and dooms the segment objects that are neither
// listed by its playlist nor on disk any more (their grace is over):
// strays (see MirrorConfig.SweepEvery); and the init segment objects of
// runs none of whose segments is left (see oldInits).
func (m *Mirror) sweep(ctx context.Context) error {
	have, runs, err := m.listObjects(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSweep = m.cfg.Now()
	var stray []media.Seq
	for seq := range have {
		if m.offDisk && seq <= m.offDiskTo && seq < m.first && !slices.Contains(m.doomed, seq) {
			stray = append(stray, seq)
		}
	}
	if len(stray) > 0 {
		slices.Sort(stray)
		m.doomed = append(stray, m.doomed...)
		m.cfg.Log.Info("stray segments in the bucket, older than its playlist: deleting them", "stream", m.cfg.Stream, "segments", stray)
	}
	m.doomedInits = oldInits(runs, have, m.first)
	return nil
}

// oldInits returns the runs whose init segment objects can go: a run's
// segments are those from its first up to the next run's (a run's first
// segment names its init segment, and a restart that keeps an init
// segment continues its run instead of starting one), so a run is over
// once a later run starts at or before the oldest segment still in the
// bucket (have) or listed (from first on). The newest run always stays.
func oldInits(runs []media.Seq, have map[media.Seq]bool, first media.Seq) []media.Seq {
	oldest := first
	for seq := range have {
		oldest = min(oldest, seq)
	}
	slices.Sort(runs)
	var old []media.Seq
	for i := 0; i+1 < len(runs); i++ {
		if runs[i+1] <= oldest {
			old = append(old, runs[i])
		}
	}
	return old
}

// retry runs do until it succeeds or ctx ends, each try bounded by
// requestTimeout, waiting from retryFirst to retryMost between tries.
func (m *Mirror) retry(ctx context.Context, what string, do func(context.Context) error) error {
	wait := retryFirst
	for try := 1; ; try++ {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		err := do(rctx)
		cancel()
		if err == nil {
			if try > 1 {
				m.cfg.Log.Info("bucket request succeeded after failures", "stream", m.cfg.Stream, "request", what, "tries", try)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m.failed()
		if try == 1 {
			m.cfg.Log.Warn("bucket request failed: retrying", "stream", m.cfg.Stream, "request", what, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, retryMost)
	}
}

func (m *Mirror) failed() {
	if m.cfg.OnFailed != nil {
		m.cfg.OnFailed()
	}
}
