package marker_test

import (
	"context"
	"image"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// heldDisk is the playlist's WriteFile with a door: while it is held, a
// write waits at it (and says so on entered) until let go.
type heldDisk struct {
	mu      sync.Mutex
	held    chan struct{} // closed to let the writes through; nil while open
	entered chan struct{}
}

func (d *heldDisk) hold() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.held = make(chan struct{})
}

func (d *heldDisk) letGo() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.held != nil {
		close(d.held)
		d.held = nil
	}
}

func (d *heldDisk) write(path string, data []byte) error {
	d.mu.Lock()
	held := d.held
	d.mu.Unlock()
	if held != nil {
		select {
		case d.entered <- struct{}{}:
		default:
		}
		<-held
	}
	return durable.WriteFile(path, data, 0o644)
}

// TestMarkerPostedWhileSegmentIsWrittenIsPlaced posts a marker into a
// segment while the playlist is still writing that segment to disk, after
// the marker service was told of the segment. The API cannot place the
// marker yet (readers see a segment only once it is on disk), so the
// marker is created without a position; once the write is done it must get
// a new revision, which is how subscribers (the web player) learn its
// sequence and offset. Without it, the player never learns where the
// marker is and takes it for one that left the window.
//
// It failed when the service looked for the segment's pending markers
// before the write ended: the marker, added after that look, was pending
// and never placed.
func TestMarkerPostedWhileSegmentIsWrittenIsPlaced(t *testing.T) {
	forEachStore(t, testMarkerPostedWhileSegmentIsWrittenIsPlaced)
}

func testMarkerPostedWhileSegmentIsWrittenIsPlaced(t *testing.T, st storage) {
	dir := t.TempDir()
	disk := &heldDisk{entered: make(chan struct{}, 1)}
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Minute, Target: time.Second, WriteFile: disk.write})
	if err != nil {
		t.Fatal(err)
	}
	// Runs after the service has stopped (cleanups run last first), and
	// before the folder goes: no playlist write is left behind.
	t.Cleanup(func() { disk.letGo(); _ = pl.Flush() })
	store := st.openStore(t)
	t.Cleanup(func() { store.Close() })
	epoch := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	added := make(chan marker.Marker, 4)
	svc := marker.NewService(marker.Config{
		Stream: "demo", Store: store, Playlist: pl, Timeline: clock.Timeline{Epoch: epoch},
		Clock:   clock.NewFake(epoch.Add(10*time.Second), nil),
		OnAdded: func(m marker.Marker) { added <- m },
	})
	runService(t, svc)
	wake, unsubscribe, _ := svc.Subscribe(1)
	t.Cleanup(unsubscribe)

	segment := func(seq media.Seq) media.Segment {
		first := clock.Ticks(seq) * clock.Hz
		return media.Segment{Seq: seq, Path: filepath.Join(dir, media.SegmentName(seq)), FirstPTS: first,
			Start: epoch.Add(first.Duration()), Duration: clock.Hz, Frames: 30}
	}
	if err := pl.Add(segment(0)); err != nil {
		t.Fatal(err)
	}
	if err := pl.Flush(); err != nil {
		t.Fatal(err)
	}

	// Segment 1 is listed in memory; its write waits at the door.
	disk.hold()
	seg := segment(1)
	if err := pl.Add(seg); err != nil {
		t.Fatal(err)
	}
	<-disk.entered
	svc.Published(seg)
	// A detection queued behind the segment: once it is stored, the
	// service is done with the segment, unless the segment's job waits for
	// the write (which the door holds), and then it does not come. Either
	// way, the marker below is posted after the service took the segment.
	svc.Detected(media.Detection{Kind: media.Opened, Start: clock.Hz / 2, Box: image.Rect(0, 0, 8, 8)})
	select {
	case <-added:
	case <-time.After(time.Second): // the segment's job waits for the write
	}
	posted, err := svc.Post(context.Background(), marker.Marker{Label: "door", PTS: seg.FirstPTS + clock.Hz/2})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := svc.Position(posted.PTS); ok {
		t.Fatalf("marker %d has a position while its segment is not on disk", posted.ID)
	}
	disk.letGo()

	if rev, ok := waitRevised(t, store, "demo", posted, wake, time.After(20*time.Second)); !ok {
		t.Fatalf("marker %d (revision %d) got no new revision once segment %d was on disk: subscribers never learn its position",
			posted.ID, rev, seg.Seq)
	}
	if pos, ok := svc.Position(posted.PTS); !ok || pos.Seq != seg.Seq || pos.Offset != clock.Hz/2 {
		t.Errorf("marker %d: position %+v (%v), want segment %d at offset %d", posted.ID, pos, ok, seg.Seq, clock.Hz/2)
	}
}
