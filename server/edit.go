package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// markerPatch is the body of PATCH /api/streams/{stream}/markers/{id}:
// each field given replaces the marker's.
type markerPatch struct {
	Label    json.RawMessage `json:"label"`
	Duration json.RawMessage `json:"duration"`
	Data     json.RawMessage `json:"data"`
}

// decodeMarkerPatch parses and checks a PATCH body, with the limits of a
// POST's. Every error names the field at fault. A duration or data of
// null clears it; a label may not be cleared.
func decodeMarkerPatch(body []byte, lim Limits) (marker.Edit, error) {
	var req markerPatch
	var e marker.Edit
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return e, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return e, errors.New("body: must hold one JSON object and nothing after it")
	}
	if req.Label == nil && req.Duration == nil && req.Data == nil {
		return e, errors.New("body: give at least one of label, duration and data")
	}
	if req.Label != nil {
		var l string
		if err := json.Unmarshal(req.Label, &l); err != nil || string(req.Label) == "null" {
			return e, fmt.Errorf("label: must be a string, got %s", quote(string(req.Label)))
		}
		l, err := checkLabel(&l)
		if err != nil {
			return e, err
		}
		e.Label = &l
	}
	if req.Duration != nil {
		var d clock.Ticks
		if string(req.Duration) != "null" {
			var err error
			if d, err = parseDuration(req.Duration); err != nil {
				return e, err
			}
		}
		e.Duration = &d
	}
	if req.Data != nil {
		data := json.RawMessage{}
		if string(req.Data) != "null" {
			if err := checkData(req.Data, lim); err != nil {
				return e, err
			}
			data = append(data, req.Data...)
		}
		e.Data = &data
	}
	return e, nil
}

// patchMarker edits a marker's label, duration or data. The playlist keeps
// its tag as served (see marker.Service.Edit).
func (s *Server) patchMarker(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.markers(w, r)
	if !ok {
		return
	}
	id, ok := markerID(w, r)
	if !ok || !s.requireJSON(w, r) || !s.allowWrite(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	e, err := decodeMarkerPatch(body, s.cfg.Limits)
	if err != nil {
		s.refuseBody(w, err)
		return
	}
	m, err := svc.Edit(r.Context(), id, e)
	switch {
	case errors.Is(err, marker.ErrNotFound):
		notFound(w, svc, id)
	case errors.Is(err, marker.ErrDetectorDuration):
		writeError(w, http.StatusBadRequest, "duration: "+marker.ErrDetectorDuration.Error())
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, view(svc, m))
	}
}

// deleteMarker deletes a marker. Its tag stays in the live playlist as
// served (see marker.Service.Delete).
func (s *Server) deleteMarker(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.markers(w, r)
	if !ok {
		return
	}
	id, ok := markerID(w, r)
	if !ok || !s.allowWrite(w, r) {
		return
	}
	_, err := svc.Delete(r.Context(), id)
	switch {
	case errors.Is(err, marker.ErrNotFound):
		notFound(w, svc, id)
	case err != nil:
		s.internalError(w, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// allowWrite takes a write from the client's post allowance (an edit or a
// deletion costs what a post does), or answers 429.
func (s *Server) allowWrite(w http.ResponseWriter, r *http.Request) bool {
	if ok, wait := s.posts.allow(r, 1); !ok {
		s.tooMany(w, "post_rate", wait, fmt.Sprintf("too many marker writes from this client: at most %g a second (bursts of %d)",
			s.cfg.Limits.PostRate, s.cfg.Limits.PostBurst))
		return false
	}
	return true
}
