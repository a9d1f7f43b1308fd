package playlist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// coalesce is the least time between two writes made for date ranges
// alone: a flood of marker changes costs at most ten writes a second. A new
// segment, Close or Flush is written at once.
const coalesce = 100 * time.Millisecond

// writer is the state of the goroutine that writes the playlist's files.
// Its fields are guarded by Playlist.mu. The goroutine runs while there is
// something to write and ends when there is not, so an idle playlist holds
// none.
//
// Order on disk: the state file first, then the playlist file, then the
// deletion of segment files whose grace is over. So the state file never
// lists a segment before its file is in place (the muxer renames it into
// place before Add), a crash between the two writes leaves a state that
// the next run rebuilds the playlist from, and neither file on disk ever
// lists a deleted segment. Readers see a change only once both files are
// written (see Playlist).
type writer struct {
	cond    *sync.Cond
	gen     uint64 // changes made
	dirty   bool   // changed since the last write began
	urgent  bool   // a segment, Close or Flush is waiting: no coalescing
	running bool   // the goroutine runs
	last    time.Time
	hurry   chan struct{} // wakes a goroutine waiting out coalesce
	doomed  []media.Segment

	tried   uint64 // the changes the last finished write covered
	written uint64 // the changes the last successful write covered
	lastErr error  // the last finished write's error
	pending error  // the latest error not yet returned by Add
}

func (w *writer) init(mu *sync.Mutex) {
	w.cond = sync.NewCond(mu)
	w.hurry = make(chan struct{}, 1)
}

// takeErr returns the latest write error since it was last called.
func (w *writer) takeErr() error {
	err := w.pending
	w.pending = nil
	return err
}

// changedLocked records a change for the writer; urgent skips coalescing.
func (p *Playlist) changedLocked(urgent bool) {
	p.w.gen++
	p.w.dirty = true
	p.kickLocked(urgent)
}

// kickLocked starts the writer goroutine, or hurries it for an urgent
// write.
func (p *Playlist) kickLocked(urgent bool) {
	p.w.urgent = p.w.urgent || urgent
	if !p.w.running {
		p.w.running = true
		go p.writeLoop()
		return
	}
	if urgent {
		select {
		case p.w.hurry <- struct{}{}:
		default: // already hurried
		}
	}
}

// Flush waits until every change made before it is written and published,
// and the segment files due for deletion are deleted. It returns the error
// of the write that covered those changes, if it failed.
func (p *Playlist) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	target := p.w.gen
	if p.w.written >= target {
		return nil
	}
	p.kickLocked(true)
	for p.w.tried < target {
		p.w.cond.Wait()
	}
	if p.w.written >= target {
		return nil
	}
	return p.w.lastErr
}

// writeLoop writes until nothing is left to write. A failed write is
// retried on the next change or Flush, not in a loop: a full disk would
// make that loop spin.
func (p *Playlist) writeLoop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.w.dirty {
		if wait := coalesce - time.Since(p.w.last); !p.w.urgent && wait > 0 {
			p.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.w.hurry:
			}
			t.Stop()
			p.mu.Lock()
			continue
		}
		select {
		case <-p.w.hurry: // this write serves whoever hurried
		default:
		}
		gen, doomed := p.w.gen, p.w.doomed
		v := p.viewLocked()
		state, err := p.stateLocked()
		p.w.dirty, p.w.urgent, p.w.doomed, p.w.last = false, false, nil, time.Now()
		p.mu.Unlock()

		if err == nil {
			err = p.writeFiles(state, v.encoded)
		}
		var delErr error
		if err == nil {
			p.pubMu.Lock()
			p.pub = v
			p.partsChangedLocked()
			p.pubMu.Unlock()
			if p.cfg.Wrote != nil {
				p.cfg.Wrote(v.snapshot())
			}
			delErr = p.deleteFiles(doomed)
			if err := p.deleteInits(doomed, v); err != nil {
				delErr = errors.Join(delErr, fmt.Errorf("playlist: delete init segment: %w", err))
			}
		}

		p.mu.Lock()
		p.w.tried = gen
		failed := err != nil
		if failed {
			p.w.dirty = true // write it all again next time
			p.w.doomed = append(doomed, p.w.doomed...)
		} else {
			p.w.written = gen
			err = delErr
		}
		p.w.lastErr = err
		if err != nil {
			p.w.pending = err
		}
		p.w.cond.Broadcast()
		if failed && !p.w.urgent {
			break
		}
	}
	p.w.running = false
}

// writeFiles writes the state file, then the playlist file.
func (p *Playlist) writeFiles(state, encoded []byte) error {
	if err := p.cfg.WriteFile(filepath.Join(p.cfg.Dir, StateFile), state); err != nil {
		return fmt.Errorf("playlist: %w", err)
	}
	if err := p.cfg.WriteFile(filepath.Join(p.cfg.Dir, FileName), encoded); err != nil {
		return fmt.Errorf("playlist: %w", err)
	}
	return nil
}

// deleteFiles removes the files of segments whose grace is over.
func (p *Playlist) deleteFiles(segs []media.Segment) error {
	var errs []error
	for _, s := range segs {
		err := os.Remove(s.Path)
		if err == nil && p.cfg.Deleted != nil {
			p.cfg.Deleted(s)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("playlist: delete segment %d: %w", s.Seq, err))
		}
	}
	return errors.Join(errs...)
}
