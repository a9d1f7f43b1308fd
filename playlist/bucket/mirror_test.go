package bucket_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/playlist/bucket"
	"github.com/hlsmark/hlsmark/playlist/bucket/weedtest"
)

// rig is a playlist mirrored to a real SeaweedFS, on a settable clock
// for the playlist's deletion deadlines.
type rig struct {
	t      testing.TB
	seg    time.Duration // the segments' duration, the window too
	format media.Format
	weed   *weedtest.Server
	reader *minio.Client // the bucket as another client lists it
	dir    string
	now    time.Time
	pl     *playlist.Playlist
	mirror *bucket.Mirror
	next   media.Seq
}

// newRig starts SeaweedFS and a playlist of segments lasting seg in a
// window as long (the least grace, no retention), whose mirror runs until
// the test ends.
func newRig(t testing.TB, seg time.Duration, format media.Format) *rig {
	r := &rig{t: t, seg: seg, format: format, weed: weedtest.Start(t), dir: t.TempDir(), now: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	r.weed.Bucket(t, "media")
	store, err := bucket.Open(bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: r.weed.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.reader, err = minio.New(strings.TrimPrefix(r.weed.Endpoint, "http://"), &minio.Options{BucketLookup: minio.BucketLookupPath}); err != nil {
		t.Fatal(err)
	}
	r.mirror = store.NewMirror(bucket.MirrorConfig{Stream: "s", Target: seg, Format: format, SweepEvery: time.Second})
	if r.pl, err = playlist.New(playlist.Config{Dir: r.dir, Window: seg, Grace: playlist.MinGrace(seg, seg), Target: seg, Format: format,
		Now: func() time.Time { return r.now }, Wrote: r.mirror.Wrote, Hold: r.mirror.Hold, Deleted: r.mirror.Deleted}); err != nil {
		t.Fatal(err)
	}
	r.mirror.Wrote(r.pl.Snapshot())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.mirror.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// add writes the next segment's file (1000 zero bytes) and adds it.
func (r *rig) add() {
	r.t.Helper()
	d := clock.FromDuration(r.seg)
	s := media.Segment{Seq: r.next, Path: filepath.Join(r.dir, r.format.SegmentName(r.next)), Format: r.format,
		FirstPTS: clock.Ticks(r.next) * d, Duration: d, Start: r.now, Size: 1000, Frames: 25}
	if err := os.WriteFile(s.Path, make([]byte, s.Size), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.addSegment(s)
}

// addSegment lists s, its file written, moves the clock on by its
// duration and waits until the playlist is written.
func (r *rig) addSegment(s media.Segment) {
	r.t.Helper()
	r.next = s.Seq + 1
	r.now = r.now.Add(s.Duration.Duration())
	if err := r.pl.Add(s); err != nil {
		r.t.Fatal(err)
	}
	if err := r.pl.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

// drain waits until the mirror uploaded everything queued.
func (r *rig) drain() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.mirror.Drain(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// onDisk returns the segment files in the folder, by sequence number.
func (r *rig) onDisk() []media.Seq {
	r.t.Helper()
	names, err := filepath.Glob(filepath.Join(r.dir, "*.ts"))
	if err != nil {
		r.t.Fatal(err)
	}
	return seqs(names)
}

// inBucket returns the stream's segment objects, by sequence number.
func (r *rig) inBucket() []media.Seq {
	r.t.Helper()
	var names []string
	for obj := range r.reader.ListObjects(context.Background(), "media", minio.ListObjectsOptions{Prefix: "live/s/"}) {
		if obj.Err != nil {
			r.t.Fatal(obj.Err)
		}
		names = append(names, obj.Key)
	}
	return seqs(names)
}

func seqs(names []string) []media.Seq {
	var out []media.Seq
	for _, n := range names {
		if q, ok := media.TS.ParseSegmentName(filepath.Base(n)); ok {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out
}

// TestHoldUntilUploaded stops the store while segments come and go: the
// playlist deletes the files of uploaded segments as their grace ends,
// and keeps every file not uploaded, however old; once the store is back,
// they are uploaded, then deleted from the disk and from the bucket as
// the window goes on, until both hold the same segments.
func TestHoldUntilUploaded(t *testing.T) {
	r := newRig(t, time.Second, media.TS)
	for range 3 {
		r.add()
	}
	r.drain()
	r.weed.Stop(t)
	for range 10 {
		r.add() // segments 3 to 12; by now 0 to 9 are past their grace
	}
	if got := r.onDisk(); !slices.Equal(got, []media.Seq{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
		t.Fatalf("on disk with the store down: %v; want 3 to 12 (0 to 2 uploaded and past their grace, the rest kept until uploaded)", got)
	}
	r.weed.Restart(t)
	r.drain()
	r.add() // segment 13, and the files uploaded meanwhile are let go
	if got := r.onDisk(); !slices.Equal(got, []media.Seq{11, 12, 13}) {
		t.Fatalf("on disk once uploaded: %v; want 11 to 13 (the window and its grace)", got)
	}
	deadline := time.Now().Add(time.Minute)
	for !slices.Equal(r.inBucket(), r.onDisk()) {
		if time.Now().After(deadline) {
			t.Fatalf("the bucket holds %v, the disk %v; want the same", r.inBucket(), r.onDisk())
		}
		time.Sleep(50 * time.Millisecond) // polling the mirror's deletions, not a proof
	}
}

// TestFMP4InitGoesUp mirrors an fMP4 stream: its init segment goes up
// (video/mp4) before its first segment (video/iso.segment) and the
// playlist naming it, as init.mp4 and as its run's init-0.mp4; written
// anew, as a restart does, init.mp4 goes up again before the next
// segment.
func TestFMP4InitGoesUp(t *testing.T) {
	r := newRig(t, time.Second, media.FMP4)
	initPath := filepath.Join(r.dir, media.InitName)
	for _, path := range []string{initPath, filepath.Join(r.dir, media.RunInitName(0))} {
		if err := os.WriteFile(path, []byte("init of run 1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.add()
	r.drain()
	check := func(key, wantType, wantBody string) {
		t.Helper()
		obj, err := r.reader.GetObject(context.Background(), "media", "live/s/"+key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		info, err := obj.Stat()
		if err != nil {
			t.Fatalf("%s is not in the bucket: %v", key, err)
		}
		body, err := io.ReadAll(obj)
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != wantType || (wantBody != "" && string(body) != wantBody) {
			t.Errorf("%s: %s %q, want %s %q", key, info.ContentType, body, wantType, wantBody)
		}
	}
	check(media.InitName, "video/mp4", "init of run 1")
	check(media.RunInitName(0), "video/mp4", "init of run 1")
	check("0.m4s", "video/iso.segment", "")
	check("index.m3u8", "application/vnd.apple.mpegurl", "")

	// A new run writes its init segment anew (a later modification time,
	// another size): the next segment's upload brings it.
	if err := os.WriteFile(initPath, []byte("init of run two"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.add()
	r.drain()
	check(media.InitName, "video/mp4", "init of run two")
	check("1.m4s", "video/iso.segment", "")
}

// TestSweepDeletesStrays puts back the object of a segment the mirror
// deleted, as an upload the store finished after the mirror gave up on it
// does: the next sweep of the bucket (every second here) deletes it, and
// leaves the objects still listed or still in their grace on disk.
func TestSweepDeletesStrays(t *testing.T) {
	r := newRig(t, time.Second, media.TS)
	for range 6 {
		r.add()
	}
	r.drain()
	r.add() // the files uploaded meanwhile are let go
	r.drain()
	waitSame := func(what string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !slices.Equal(r.inBucket(), r.onDisk()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the bucket holds %v, the disk %v; want the same", what, r.inBucket(), r.onDisk())
			}
			time.Sleep(50 * time.Millisecond) // polling the mirror's deletions, not a proof
		}
	}
	waitSame("before the stray")
	if got := r.onDisk(); len(got) == 0 || got[0] == 0 {
		t.Fatalf("on disk %v: segment 0 should be past its grace", got)
	}
	if _, err := r.reader.PutObject(context.Background(), "media", "live/s/0.ts", strings.NewReader("late"), 4, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := r.inBucket(); len(got) == 0 || got[0] != 0 {
		t.Fatalf("the stray did not land: the bucket holds %v", got)
	}
	waitSame("after the stray")
}

// TestSweepDeletesOldRunInits mirrors an fMP4 stream through a restart
// with another init segment: once the window and the grace have taken
// every segment of the first run out of the bucket, a sweep deletes that
// run's init-0.mp4, and keeps the new run's init-3.mp4 and init.mp4.
// Checked to fail without oldInits (init-0.mp4 stays for good).
func TestSweepDeletesOldRunInits(t *testing.T) {
	r := newRig(t, time.Second, media.FMP4)
	newRun := func(first media.Seq, body string) {
		t.Helper()
		own := filepath.Join(r.dir, media.RunInitName(first))
		if err := os.WriteFile(own, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cur := filepath.Join(r.dir, media.InitName)
		os.Remove(cur)
		if err := os.Link(own, cur); err != nil {
			t.Fatal(err)
		}
	}
	addRun := func(first media.Seq, n int) {
		t.Helper()
		d := clock.FromDuration(r.seg)
		for range n {
			s := media.Segment{Seq: r.next, Path: filepath.Join(r.dir, r.format.SegmentName(r.next)), Format: r.format, Init: first,
				FirstPTS: clock.Ticks(r.next) * d, Duration: d, Start: r.now, Size: 1000, Frames: 25}
			if err := os.WriteFile(s.Path, make([]byte, s.Size), 0o644); err != nil {
				t.Fatal(err)
			}
			r.addSegment(s)
			r.drain()
		}
	}
	newRun(0, "init of run 1")
	addRun(0, 3)
	newRun(3, "init of run two")
	addRun(3, 6)
	inits := func() []string {
		var names []string
		for obj := range r.reader.ListObjects(context.Background(), "media", minio.ListObjectsOptions{Prefix: "live/s/init"}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			names = append(names, strings.TrimPrefix(obj.Key, "live/s/"))
		}
		slices.Sort(names)
		return names
	}
	want := []string{media.RunInitName(3), media.InitName}
	deadline := time.Now().Add(time.Minute)
	for !slices.Equal(inits(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("init segments in the bucket %v, want %v (segments %v)", inits(), want, r.inBucket())
		}
		addRun(3, 1) // moves the window on; the sweeps come every second
	}
}

// TestUploadedTook queues three segments at once behind a store that
// holds each request 200 ms: OnUploaded is told of each, in order, at
// least 200 ms per request made up to its own (the bucket's listing at
// start, the segments before it, its own), and at most the time from
// before the queueing to the end of Drain.
func TestUploadedTook(t *testing.T) {
	const held = 200 * time.Millisecond
	weed := weedtest.Start(t)
	weed.Bucket(t, "media")
	store, err := bucket.Open(bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: weed.Delayed(t, held), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var took []time.Duration
	m := store.NewMirror(bucket.MirrorConfig{Stream: "s", Target: time.Second, Format: media.TS, OnUploaded: func(d time.Duration) {
		mu.Lock()
		took = append(took, d)
		mu.Unlock()
	}})
	dir := t.TempDir()
	var snap playlist.Snapshot
	for seq := range media.Seq(3) {
		s := media.Segment{Seq: seq, Path: filepath.Join(dir, media.TS.SegmentName(seq)), Format: media.TS, Size: 1000}
		if err := os.WriteFile(s.Path, make([]byte, s.Size), 0o644); err != nil {
			t.Fatal(err)
		}
		snap.Listed = append(snap.Listed, s)
	}
	snap.Encoded = []byte("#EXTM3U\n")
	queued := time.Now()
	m.Wrote(snap)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	dctx, cancelDrain := context.WithTimeout(ctx, time.Minute)
	defer cancelDrain()
	if err := m.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	most := time.Since(queued)
	mu.Lock()
	defer mu.Unlock()
	if len(took) != 3 {
		t.Fatalf("OnUploaded told of %d uploads; want 3 (%v)", len(took), took)
	}
	for i, d := range took {
		if least := time.Duration(i+2) * held; d < least || d > most {
			t.Errorf("segment %d took %v; want from %v (%d requests held %v) to %v (queued to drained)", i, d, least, i+2, held, most)
		}
	}
}
