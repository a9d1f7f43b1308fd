package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Frames makes JPEG pictures of a stream's frames (package snapshot).
type Frames interface {
	// Size is the size of the stream's frames.
	Size() media.Size
	// JPEG returns the frame at pts (showing: the last frame with a PTS
	// not after it) width pixels wide, 0 for its own width, the height
	// keeping the aspect. It returns media.ErrFrameGone when no segment on
	// disk holds pts, media.ErrNoFrame when no frame has exactly pts.
	JPEG(ctx context.Context, pts clock.Ticks, showing bool, width int) ([]byte, error)
}

// maxPictureWidth bounds ?width, whatever the stream's own width.
const maxPictureWidth = 4096

// immutable is the Cache-Control of a picture of a frame named by its
// PTS: a frame never changes.
const immutable = "public, max-age=31536000, immutable"

// thumbnail answers GET /api/streams/{stream}/markers/{id}/thumbnail.jpg:
// the marker's frame, the first showing its event.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	st, ok := s.stream(w, r)
	if !ok {
		return
	}
	m, ok := s.markerOf(w, r, st.Markers)
	if !ok {
		return
	}
	width, ok := pictureWidth(w, r, st)
	if !ok {
		return
	}
	// A marker posted at a time between two frames is pictured by the
	// frame showing then: the one the player shows at the marker.
	s.writePicture(w, r, st, m.PTS, true, width, immutable)
}

// frame answers GET /api/streams/{stream}/frame.jpg?pts=N or ?time=T: the
// frame with PTS N exactly, or the frame showing at time T.
func (s *Server) frame(w http.ResponseWriter, r *http.Request) {
	st, ok := s.stream(w, r)
	if !ok {
		return
	}
	ptsRaw, err1 := queryValues(r, "pts")
	timeRaw, err2 := queryValues(r, "time")
	var pts clock.Ticks
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, errors.Join(err1, err2).Error())
		return
	case len(ptsRaw)+len(timeRaw) != 1:
		writeError(w, http.StatusBadRequest, "pts, time: give one of them, once")
		return
	case len(ptsRaw) == 1:
		n, err := parseTS("pts", ptsRaw[0])
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		// As a posted marker's: the latest instance up to the present.
		_, now := st.Markers.Range()
		pts = clock.LatestAt(n, now)
	default:
		t, err := time.Parse(time.RFC3339Nano, timeRaw[0])
		if err != nil {
			writeError(w, http.StatusBadRequest, "time: must be an RFC 3339 date-time like 2026-11-24T10:00:00.123Z, got "+quote(timeRaw[0]))
			return
		}
		tl := st.Markers.Timeline()
		if t.Before(tl.Epoch) {
			writeError(w, http.StatusBadRequest, "time: "+quote(timeRaw[0])+" is before the stream started")
			return
		}
		pts = tl.PTS(t)
	}
	width, ok := pictureWidth(w, r, st)
	if !ok {
		return
	}
	cache := immutable
	if len(timeRaw) == 1 {
		cache = "no-cache" // the frame showing at a time is found anew
	}
	s.writePicture(w, r, st, pts, len(timeRaw) == 1, width, cache)
}

// pictureWidth parses ?width: from 1 to the stream's width (and
// maxPictureWidth); 0 when not given.
func pictureWidth(w http.ResponseWriter, r *http.Request, st *Stream) (int, bool) {
	if st.Frames == nil {
		writeError(w, http.StatusNotFound, "stream "+quote(st.Name)+" makes no pictures")
		return 0, false
	}
	raw, err := queryValues(r, "width")
	if err == nil && len(raw) > 1 {
		err = errors.New("width: give it once")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return 0, false
	}
	if len(raw) == 0 {
		return 0, true
	}
	most := min(st.Frames.Size().Width, maxPictureWidth)
	n, err := strconv.Atoi(raw[0])
	if err != nil || n < 1 || n > most {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("width: must be an integer from 1 to %d (the stream's width, at most %d), got %s",
			most, maxPictureWidth, quote(raw[0])))
		return 0, false
	}
	return n, true
}

// writePicture answers with the JPEG of the frame at pts.
func (s *Server) writePicture(w http.ResponseWriter, r *http.Request, st *Stream, pts clock.Ticks, showing bool, width int, cache string) {
	data, err := st.Frames.JPEG(r.Context(), pts, showing, width)
	ts := strconv.FormatInt(int64(pts.TS()), 10)
	switch {
	case errors.Is(err, media.ErrFrameGone):
		writeError(w, http.StatusGone, "no segment on disk holds pts "+ts+": the frame left the window (or is not written yet)")
	case errors.Is(err, media.ErrNoFrame):
		writeError(w, http.StatusNotFound, "no frame at pts "+ts)
	case r.Context().Err() != nil:
		return // the client is gone
	case err != nil:
		s.internalError(w, err)
	default:
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", cache)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}
}
