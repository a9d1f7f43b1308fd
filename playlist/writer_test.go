package playlist_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// slowDisk is a Config.WriteFile that writes through durable.WriteFile,
// counting the writes of each file, and that can be made to stop inside a
// write until released.
type slowDisk struct {
	mu      sync.Mutex
	writes  map[string]int
	blocked chan string   // receives the file a stopped write was writing
	release chan struct{} // closed to let stopped writes go on; nil: do not stop
	fail    error         // returned instead of writing, if set
}

func newSlowDisk() *slowDisk {
	return &slowDisk{writes: map[string]int{}, blocked: make(chan string, 8)}
}

func (d *slowDisk) write(path string, data []byte) error {
	d.mu.Lock()
	release, fail := d.release, d.fail
	d.mu.Unlock()
	if release != nil {
		d.blocked <- filepath.Base(path)
		<-release
	}
	if fail != nil {
		return fail
	}
	d.mu.Lock()
	d.writes[filepath.Base(path)]++
	d.mu.Unlock()
	return durable.WriteFile(path, data, 0o644)
}

// stop makes the next writes stop until the returned function is called.
func (d *slowDisk) stop() (release func()) {
	ch := make(chan struct{})
	d.mu.Lock()
	d.release = ch
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		d.release = nil
		d.mu.Unlock()
		close(ch)
	}
}

func (d *slowDisk) count(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writes[name]
}

// TestPublisherDoesNotWaitForDisk stops the disk, adds a segment (whose
// write then stops inside the state file), sets fifty date ranges and
// reads the playlist: every call returns while the write is stopped (synctest.Wait
// returns once every goroutine of the test is blocked; were one of the
// calls waiting for the write, it would be among them, and the calls would
// not have finished). Readers still see the playlist as last written, and
// so does the file on disk: nothing is published before it is written.
// Released, the writer writes once for the segment and once more for the
// fifty ranges, coalesced, and then publishes them all.
func TestPublisherDoesNotWaitForDisk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		disk := newSlowDisk()
		dir := t.TempDir()
		p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second, WriteFile: disk.write})
		first := mk.make(time.Second)
		add(t, p, first)
		before, writesBefore := p.Encoded(), disk.count(playlist.FileName)

		release := disk.stop()
		next := mk.make(time.Second)
		var addErr, setErr error
		var seen []byte
		var listed []media.Segment
		var stoppedIn string
		done := make(chan struct{})
		go func() {
			defer close(done)
			addErr = p.Add(next)
			stoppedIn = <-disk.blocked // the writer is inside the state write
			for i := range 50 {
				if err := p.SetDateRange(playlist.DateRange{ID: "r" + strconv.Itoa(i), Start: next.Start, Label: "flood"}); err != nil {
					setErr = errors.Join(setErr, err)
				}
			}
			seen, listed = p.Encoded(), p.Segments()
		}()
		synctest.Wait()
		select {
		case <-done:
		default:
			release()
			<-done
			t.Fatal("Add, SetDateRange or Encoded waited for the stopped disk write")
		}
		if stoppedIn != playlist.StateFile {
			t.Fatalf("the write stopped in %s, want the state file first", stoppedIn)
		}
		if addErr != nil || setErr != nil {
			t.Fatalf("Add: %v; SetDateRange: %v", addErr, setErr)
		}
		if !bytes.Equal(seen, before) || len(listed) != 1 {
			t.Fatalf("while the write is stopped, readers see %d segments and\n%s\nwant the playlist as last written:\n%s", len(listed), seen, before)
		}
		if disk, _ := os.ReadFile(filepath.Join(dir, playlist.FileName)); !bytes.Equal(disk, before) {
			t.Fatalf("while the state write is stopped, the playlist file holds\n%s", disk)
		}

		release()
		flush(t, p)
		_, segs := decodeStrict(t, p.Encoded())
		if len(segs) != 2 || len(dateRanges(t, p.Encoded())) != 50 {
			t.Fatalf("after the write, the playlist lists %d segments and %d ranges, want 2 and 50:\n%s", len(segs), len(dateRanges(t, p.Encoded())), p.Encoded())
		}
		if n := disk.count(playlist.FileName) - writesBefore; n != 2 {
			t.Fatalf("%d playlist writes for one segment and fifty ranges set while the disk was stopped, want 2", n)
		}
		checkOnDisk(t, dir, p)
	})
}

// TestFailedWriteIsNotPublished makes the disk fail: Add still returns at
// once, readers keep the playlist as last written, and the next Add
// returns the write's error. Once the disk works again, the next write
// publishes everything, the segment added during the failure included.
func TestFailedWriteIsNotPublished(t *testing.T) {
	disk := newSlowDisk()
	dir := t.TempDir()
	p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second, WriteFile: disk.write})
	add(t, p, mk.make(time.Second))
	before := p.Encoded()

	full := errors.New("no space left on device")
	disk.mu.Lock()
	disk.fail = full
	disk.mu.Unlock()
	if err := p.Add(mk.make(time.Second)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := p.Flush(); !errors.Is(err, full) {
		t.Fatalf("Flush during the failure: %v, want the disk's error", err)
	}
	if !bytes.Equal(p.Encoded(), before) || len(p.Segments()) != 1 {
		t.Fatalf("a playlist that could not be written was published:\n%s", p.Encoded())
	}
	disk.mu.Lock()
	disk.fail = nil
	disk.mu.Unlock()
	if err := p.Add(mk.make(time.Second)); !errors.Is(err, full) {
		t.Fatalf("Add after a failed write: %v, want the write's error", err)
	}
	flush(t, p)
	if _, segs := decodeStrict(t, p.Encoded()); len(segs) != 3 {
		t.Fatalf("after the disk came back, %d segments listed, want 3:\n%s", len(segs), p.Encoded())
	}
	checkOnDisk(t, dir, p)
}
