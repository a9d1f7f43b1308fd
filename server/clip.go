package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Clips cuts MP4 clips of a stream's segments on disk (package
// muxer/clip).
type Clips interface {
	// MP4 writes into the file at path an MP4 (H.264 copied, faststart)
	// whose first presented frame is the first at or after from and whose
	// last is the last before to, ending early at a discontinuity or the
	// newest segment on disk. It returns media.ErrFrameGone when no
	// segment on disk holds from, media.ErrNoFrame when no frame lies
	// between from and to.
	MP4(ctx context.Context, path string, from, to clock.Ticks) error
}

// maxClipSpan bounds the range one clip covers.
const maxClipSpan = 10 * time.Minute

// Defaults of a marker's clip: how long before and after its frame.
const (
	defaultClipBefore = 2 * time.Second
	defaultClipAfter  = 5 * time.Second
)

// markerClip answers GET
// /api/streams/{stream}/markers/{id}/clip.mp4?before=S&after=S: an MP4 from
// before seconds before the marker's frame to after seconds after it.
func (s *Server) markerClip(w http.ResponseWriter, r *http.Request) {
	st, ok := s.clipStream(w, r)
	if !ok {
		return
	}
	m, ok := s.markerOf(w, r, st.Markers)
	if !ok {
		return
	}
	before, err1 := clipSeconds(r, "before", defaultClipBefore)
	after, err2 := clipSeconds(r, "after", defaultClipAfter)
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, errors.Join(err1, err2).Error())
		return
	case before+after == 0:
		writeError(w, http.StatusBadRequest, "after: before + after must be more than 0 seconds")
		return
	case (before + after).Duration() > maxClipSpan:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("after: the clip must span at most %s (before + after), got %s", maxClipSpan, (before+after).Duration()))
		return
	}
	name := fmt.Sprintf("%s-marker-%d.mp4", st.Name, m.ID)
	s.writeClip(w, r, st, max(m.PTS-before, 0), m.PTS+after, name)
}

// rangeClip answers GET /api/streams/{stream}/clip.mp4?from=PTS&to=PTS:
// an MP4 of the frames from PTS from to PTS to (excluded), both TS
// timestamps, taken as the VOD playlist's pts: bounds are.
func (s *Server) rangeClip(w http.ResponseWriter, r *http.Request) {
	st, ok := s.clipStream(w, r)
	if !ok {
		return
	}
	var bounds [2]clock.Ticks
	for i, name := range []string{"from", "to"} {
		raw, err := queryValues(r, name)
		if err == nil && len(raw) != 1 {
			err = errors.New(name + ": give it once, a PTS (an MPEG-TS timestamp from 0 to 2^33-1)")
		}
		if err == nil {
			bounds[i], err = parseTS(name, raw[0])
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	name := fmt.Sprintf("%s-%d-%d.mp4", st.Name, bounds[0], bounds[1])
	_, now := st.Markers.Range()
	from, to := clock.LatestAt(bounds[0], now), bounds[1]
	ptsSpan(&from, &to)
	switch {
	case to == from:
		writeError(w, http.StatusBadRequest, "to: must be after from")
		return
	case (to - from).Duration() > maxClipSpan:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("to: the clip must span at most %s, got %s (a to below from is taken across the 33-bit wrap)",
			maxClipSpan, (to-from).Duration()))
		return
	}
	s.writeClip(w, r, st, from, to, name)
}

// clipStream returns the stream the URL names, if it makes clips.
func (s *Server) clipStream(w http.ResponseWriter, r *http.Request) (*Stream, bool) {
	st, ok := s.stream(w, r)
	if ok && st.Clips == nil {
		writeError(w, http.StatusNotFound, "stream "+quote(st.Name)+" makes no clips")
		return nil, false
	}
	return st, ok
}

// clipSeconds parses ?name, seconds from 0 to maxClipSpan, decimals
// allowed; def when not given.
func clipSeconds(r *http.Request, name string, def time.Duration) (clock.Ticks, error) {
	raw, err := queryValues(r, name)
	switch {
	case err != nil:
		return 0, err
	case len(raw) > 1:
		return 0, errors.New(name + ": give it once")
	case len(raw) == 0:
		return clock.FromDuration(def), nil
	}
	v, err := strconv.ParseFloat(raw[0], 64)
	t, ok := clock.FromSeconds(v)
	if err != nil || !ok || math.IsNaN(v) || v < 0 || t.Duration() > maxClipSpan {
		return 0, fmt.Errorf("%s: must be a number of seconds from 0 to %g, got %s", name, maxClipSpan.Seconds(), quote(raw[0]))
	}
	return t, nil
}

// parseTS parses a TS timestamp given as ?name: an integer from 0 to
// 2^33-1.
func parseTS(name, raw string) (clock.Ticks, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n >= int64(clock.Wrap) {
		return 0, errors.New(name + ": must be an MPEG-TS timestamp, an integer from 0 to 2^33-1, got " + quote(raw))
	}
	return clock.Ticks(n), nil
}

// writeClip answers with the MP4 of the frames from from to to, named
// name. The clip is written to a temporary file (faststart rewrites it),
// removed once open, and served from there with its ranges.
func (s *Server) writeClip(w http.ResponseWriter, r *http.Request, st *Stream, from, to clock.Ticks, name string) {
	tmp, err := os.CreateTemp("", "hlsmark-clip-*.mp4")
	if err != nil {
		s.internalError(w, fmt.Errorf("clip: %w", err))
		return
	}
	path := tmp.Name()
	defer os.Remove(path)
	if err := tmp.Close(); err != nil {
		s.internalError(w, fmt.Errorf("clip: %w", err))
		return
	}
	err = st.Clips.MP4(r.Context(), path, from, to)
	ts := func(p clock.Ticks) string { return strconv.FormatInt(int64(p.TS()), 10) }
	switch {
	case errors.Is(err, media.ErrFrameGone):
		writeError(w, http.StatusGone, "no segment on disk holds pts "+ts(from)+": the frames left retention (--retain) or are not written yet")
		return
	case errors.Is(err, media.ErrNoFrame):
		writeError(w, http.StatusNotFound, "no frame from pts "+ts(from)+" to pts "+ts(to))
		return
	case r.Context().Err() != nil:
		return // the client is gone
	case err != nil:
		s.internalError(w, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.internalError(w, fmt.Errorf("clip: %w", err))
		return
	}
	defer f.Close()
	// Gone from the folder before the first byte is sent; the open file
	// stays readable until served.
	if err := os.Remove(path); err != nil {
		s.internalError(w, fmt.Errorf("clip: %w", err))
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-cache") // retention and new segments change what a range holds
	http.ServeContent(w, r, name, time.Time{}, f)
}
