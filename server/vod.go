package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/playlist"
)

// maxVODSpan bounds the range one VOD playlist covers.
const maxVODSpan = 10 * time.Minute

// vodMargin is how far a marker's vod_url reaches before and after it.
const vodMargin = 10 * time.Second

// vod answers GET /streams/{stream}/vod.m3u8?from=T&to=T: a VOD playlist
// of the segments on disk between from and to, RFC 3339 times or pts:N
// (as the marker search takes them), with the date ranges of the markers
// between them.
func (s *Server) vod(w http.ResponseWriter, r *http.Request) {
	st, ok := s.stream(w, r)
	if !ok {
		return
	}
	if st.Playlist == nil {
		writeError(w, http.StatusNotFound, "stream "+quote(st.Name)+" is encoded on another node: ask it for vod.m3u8")
		return
	}
	from, to, err := vodRange(r, st.Markers)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	svc := st.Markers
	ms, _, _, err := search(r.Context(), svc, marker.Filter{FromPTS: &from, ToPTS: &to}, 0, maxLimit)
	if err != nil {
		s.internalError(w, err)
		return
	}
	ranges := make([]playlist.DateRange, 0, len(ms))
	for _, m := range ms {
		ranges = append(ranges, svc.DateRange(m))
	}
	data, ok := st.Playlist.VOD(from, to, ranges)
	if !ok {
		writeError(w, http.StatusNotFound, "no segment on disk between from and to: the range is past retention (--retain) or not recorded yet")
		return
	}
	w.Header().Set("Content-Type", playlistType)
	// Retention deletes the oldest segments as it goes: fetch it anew.
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(data)
}

// vodRange reads from and to, both required, at most maxVODSpan apart.
func vodRange(r *http.Request, svc *marker.Service) (from, to clock.Ticks, err error) {
	given := url.Values{}
	for _, name := range []string{"from", "to"} {
		raw, err := queryValues(r, name)
		switch {
		case err != nil:
			return 0, 0, err
		case len(raw) != 1:
			return 0, 0, errors.New(name + ": give it once, an RFC 3339 date-time or pts:N")
		}
		given.Set(name, raw[0])
	}
	_, now := svc.Range()
	tl := svc.Timeline()
	var bounds [2]*clock.Ticks
	bothPTS := true
	for i, name := range []string{"from", "to"} {
		pts, t, err := bound(name, given, now)
		if err != nil {
			return 0, 0, err
		}
		if t != nil {
			bothPTS = false
			if t.Before(tl.Epoch) {
				return 0, 0, errors.New(name + ": " + quote(given.Get(name)) + " is before the stream started")
			}
			p := tl.PTS(*t)
			pts = &p
		}
		bounds[i] = pts
	}
	if bothPTS {
		ptsSpan(bounds[0], bounds[1])
	}
	from, to = *bounds[0], *bounds[1]
	switch {
	case to < from:
		return 0, 0, errors.New("to: must not be before from")
	case (to - from).Duration() > maxVODSpan:
		return 0, 0, fmt.Errorf("to: the range must span at most %s, got %s", maxVODSpan, (to - from).Duration())
	}
	return from, to, nil
}

// vodURL is a marker's vod_url: a VOD playlist from vodMargin before its
// PTS (or the stream's start) to vodMargin after it.
func vodURL(stream string, pts clock.Ticks) string {
	margin := clock.FromDuration(vodMargin)
	q := url.Values{
		"from": {"pts:" + strconv.FormatInt(int64(max(pts-margin, 0).TS()), 10)},
		"to":   {"pts:" + strconv.FormatInt(int64((pts+margin).TS()), 10)},
	}
	return "/streams/" + url.PathEscape(stream) + "/vod.m3u8?" + q.Encode()
}
