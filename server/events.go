package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hlsmark/hlsmark/marker"
)

// SSE settings.
const (
	// heartbeat is how often an idle event stream gets a comment line, so
	// proxies keep it open and a dead client is noticed.
	heartbeat = 15 * time.Second
	// sseBatch is how many changes are read from the store at a time.
	sseBatch = 100
)

// markerEvents streams marker changes as Server-Sent Events. Every event
// carries the marker's revision as its id; a client reconnecting with
// Last-Event-ID (header, or last_event_id in the query for clients that
// cannot set headers) gets every change after it. Without one (or with
// one past the store's latest revision), the stream starts at the present.
func (s *Server) markerEvents(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.markers(w, r)
	if !ok {
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Subscribe before reading the store, so no change falls in between.
	wake, cancel, ok := svc.Subscribe(s.cfg.MaxSubscribers)
	if !ok {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "too many event subscribers on stream "+quote(svc.Stream()))
		return
	}
	defer cancel()
	rev, err := svc.Store().Rev(r.Context(), svc.Stream())
	if err != nil {
		s.internalError(w, err)
		return
	}
	// A revision past the store's latest comes from a client of an earlier
	// store (one wiped or restored from backup): resuming from it would
	// hold back every change until the revisions caught up, so it starts
	// at the present, like a client with none.
	if last == nil || *last > rev {
		last = &rev
	}
	// A client too far behind is not replayed every change: it is told
	// to read the marker list, and follows from the present.
	reset := rev-*last > marker.Rev(s.cfg.Limits.Replay)
	if reset {
		s.limited("replay")
		last = &rev
	}
	// A replay reads markers as a listing does, and costs the same.
	if behind := int(rev - *last); behind > 0 {
		if ok, wait := s.reads.allow(r, behind); !ok {
			s.tooMany(w, "list_rate", wait, "this client reads too many markers: wait before resuming the event stream")
			return
		}
	}

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.EventWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	if reset && !write(resetEvent(svc.Stream(), rev, s.cfg.Limits.Replay)) {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		ms, err := svc.Store().Changes(r.Context(), svc.Stream(), *last, sseBatch)
		if err != nil {
			s.cfg.Logger.Error("sse", "err", err)
			return
		}
		for _, m := range ms {
			if !write(sseEvent(svc, m, *last)) {
				return
			}
			*last = m.Rev
		}
		if len(ms) == sseBatch {
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.stopping:
			return
		case <-wake:
		case <-tick.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		}
	}
}

// sseEvent formats one change: "deleted" for a deleted marker (its data
// the marker as it was), "created" if the marker is new since the client's
// last event, "updated" otherwise. Each marker comes once, as its latest
// revision left it: a marker edited and then deleted since the client's
// last event is one "deleted" event.
func sseEvent(svc *marker.Service, m marker.Marker, after marker.Rev) []byte {
	kind := "updated"
	switch {
	case m.Deleted:
		kind = "deleted"
	case m.CreatedRev > after:
		kind = "created"
	}
	data, _ := json.Marshal(view(svc, m))
	b := make([]byte, 0, len(data)+64)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, uint64(m.Rev), 10)
	b = append(b, "\nevent: "...)
	b = append(b, kind...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// resetEvent tells a client that asked to resume from too far back that it
// was not caught up: it should read the marker list (paging with next)
// and carries on from revision rev.
func resetEvent(stream string, rev marker.Rev, replay int) []byte {
	data, _ := json.Marshal(map[string]any{
		"error":   "more than " + strconv.Itoa(replay) + " changes since Last-Event-ID: read the marker list instead",
		"markers": "/api/streams/" + stream + "/markers",
	})
	b := append([]byte("id: "), strconv.FormatUint(uint64(rev), 10)...)
	b = append(b, "\nevent: reset\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// lastEventID reads the revision a client resumes from, if any.
func lastEventID(r *http.Request) (*marker.Rev, error) {
	raw := r.Header.Get("Last-Event-ID")
	name := "Last-Event-ID"
	if raw == "" {
		// In the query, present means given: empty or twice is an error.
		vals, err := queryValues(r, "last_event_id")
		switch {
		case err != nil:
			return nil, err
		case len(vals) == 0:
			return nil, nil
		case len(vals) > 1:
			return nil, errors.New("last_event_id: give it once")
		}
		raw, name = vals[0], "last_event_id"
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return nil, errors.New(name + ": must be a non-negative integer, got " + quote(raw))
	}
	rev := marker.Rev(n)
	return &rev, nil
}
