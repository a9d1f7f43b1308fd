package marker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Edit is a change to a marker: each field set replaces the marker's.
// Its place (PTS) and source never change.
type Edit struct {
	Label *string
	// Duration, if set, is the new duration; 0 clears it.
	Duration *clock.Ticks
	// Data, if set, is the new data object; an empty one clears it.
	Data *json.RawMessage
}

// ErrDetectorDuration is returned for an Edit of a detector marker's
// duration: the detector measured it (it closes the marker when the event
// ends), so only its label and data may be edited.
var ErrDetectorDuration = errors.New("a detector marker's duration is the detector's measure; only its label and data may be edited")

// Edit changes a marker of the stream and gives it a new revision, which
// subscribers receive. Its date range in the playlist keeps what was
// served (see changed): a new label shows in the API and events only, and
// a duration is added to the playlist only where the range had none. A
// marker that does not exist, or was deleted, is ErrNotFound.
func (s *Service) Edit(ctx context.Context, id ID, e Edit) (Marker, error) {
	if e.Duration != nil {
		m, err := s.store.Get(ctx, s.cfg.Stream, id)
		if err != nil {
			return Marker{}, err
		}
		if m.Source == FromDetector {
			return Marker{}, fmt.Errorf("marker %d: %w", id, ErrDetectorDuration)
		}
	}
	m, err := s.store.Update(ctx, s.cfg.Stream, id, func(m *Marker) {
		if e.Label != nil {
			m.Label = *e.Label
		}
		if e.Duration != nil {
			m.Duration = *e.Duration
		}
		if e.Data != nil {
			m.Data = append(json.RawMessage(nil), *e.Data...)
		}
	})
	if err != nil {
		return Marker{}, err
	}
	if s.cfg.OnEdited != nil {
		s.cfg.OnEdited(m)
	}
	s.changed(m)
	return m, nil
}

// Delete deletes a marker of the stream: it is gone from Get and List,
// and its tombstone, at a new revision, tells subscribers. Its date range
// stays in the playlist as served, never removed in place (RFC 8216,
// section 6.2.1), and leaves with its segments; an open one (a detector
// marker whose event still shows) is ended there as an instant, since no
// duration will come. A marker that does not exist, or was deleted, is
// ErrNotFound.
func (s *Service) Delete(ctx context.Context, id ID) (Marker, error) {
	m, err := s.store.Delete(ctx, s.cfg.Stream, id)
	if err != nil {
		return Marker{}, err
	}
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
	if s.cfg.OnDeleted != nil {
		s.cfg.OnDeleted(m)
	}
	s.unlist(m)
	s.notify()
	return m, nil
}
