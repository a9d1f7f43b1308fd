package marker

import "context"

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
				s.place(m)
				s.changed(m)
			}
		}
		if len(ms) < learnBatch {
			return nil
		}
	}
}

// unlist ends the date range of a deleted marker (see Delete).
func (s *Service) unlist(m Marker) {
	if s.cfg.Playlist != nil {
		s.cfg.Playlist.EndDateRange(s.DateRange(m).ID)
	}
}
