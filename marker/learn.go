package marker

import (
	"context"
	"errors"
)

// learnBatch is how many changes learnChanges reads at a time.
const learnBatch = 1000

// Learn tells the service that the stream's markers changed in the store,
// perhaps by another node (a shared store's notification): Run reads the
// changes since those it last read and places what they add, as if they
// were its own. A marker posted on an edge, which has no playlist, is
// thus placed by the node encoding the stream: its date range in the
// playlist, and its new revision once its segment is published. Learn
// never waits: calls while a read is due are one read.
func (s *Service) Learn() {
	s.following.Store(true)
	s.readChanges()
}

// readChanges has Run read the store's changes.
func (s *Service) readChanges() {
	select {
	case s.learn <- struct{}{}:
	default: // a read is due already: it reads this change too
	}
}

// learnChanges reads the store's changes after learned and places each:
// a new or edited marker as add and Edit do, a deleted one as Delete.
// Changes the service made itself come back too; placing them again
// changes nothing (ReviseDateRange keeps a listed range as served).
func (s *Service) learnChanges(ctx context.Context) error {
	if s.cfg.Playlist == nil {
		return nil // nothing to place in
	}
	for {
		ms, err := s.cfg.Store.Changes(ctx, s.cfg.Stream, s.learned, learnBatch)
		if err != nil {
			return err
		}
		for _, m := range ms {
			s.learned = m.Rev
			switch {
			case m.Deleted:
				s.mu.Lock()
				delete(s.pending, m.ID)
				s.mu.Unlock()
				s.unlist(m)
			case m.PTS >= s.windowStart():
				s.mu.Lock()
				_, own := s.mine[m.ID]
				delete(s.mine, m.ID)
				s.mu.Unlock()
				listed := s.pend(m)
				s.changed(m)
				if listed && !own && m.Rev == m.CreatedRev {
					// Posted elsewhere into a segment published
					// since: no publication will come to give it the
					// revision that tells subscribers its position.
					if err := s.touch(ctx, m.ID); err != nil {
						return err
					}
				}
			}
		}
		if len(ms) < learnBatch {
			return nil
		}
	}
}

// touch gives marker id a new revision, unchanged, and wakes the
// subscribers, so they read where it is now; one deleted meanwhile is
// left alone (its tombstone told them).
func (s *Service) touch(ctx context.Context, id ID) error {
	_, err := s.store.Update(ctx, s.cfg.Stream, id, func(*Marker) {})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.notify()
	return nil
}

// unlist ends the date range of a deleted marker (see Delete).
func (s *Service) unlist(m Marker) {
	if s.cfg.Playlist != nil {
		s.cfg.Playlist.EndDateRange(s.DateRange(m).ID)
	}
}
