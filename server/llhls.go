package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// Low-Latency HLS (RFC 8216bis, section 6.2.5): blocking playlist reload,
// delta updates, and parts served from memory, the hinted one as it is
// written. A waiting request costs no goroutine of its own and no polling:
// it sleeps on the playlist's Changed channel, closed at every change.

// llQuery is the delivery directives of a playlist request.
type llQuery struct {
	block bool      // _HLS_msn given
	msn   media.Seq // _HLS_msn
	part  int       // _HLS_part, or -1
	skip  bool      // _HLS_skip=YES
}

// parseLLQuery reads _HLS_msn, _HLS_part and _HLS_skip, or says which is
// wrong.
func parseLLQuery(r *http.Request) (llQuery, error) {
	q := llQuery{part: -1}
	v := r.URL.Query()
	if s, ok := v["_HLS_msn"]; ok {
		n, err := strconv.ParseUint(s[0], 10, 64)
		if err != nil || len(s) > 1 {
			return q, errors.New("_HLS_msn " + quote(s[0]) + ": want one media sequence number")
		}
		q.block, q.msn = true, media.Seq(n)
	}
	if s, ok := v["_HLS_part"]; ok {
		n, err := strconv.Atoi(s[0])
		switch {
		case err != nil || n < 0 || len(s) > 1:
			return q, errors.New("_HLS_part " + quote(s[0]) + ": want one part index")
		case !q.block:
			return q, errors.New("_HLS_part without _HLS_msn")
		}
		q.part = n
	}
	if s, ok := v["_HLS_skip"]; ok {
		if s[0] != "YES" || len(s) > 1 {
			return q, errors.New("_HLS_skip " + quote(s[0]) + ": want YES (EXT-X-DATERANGE tags are never skipped)")
		}
		q.skip = true
	}
	return q, nil
}

// livePlaylist answers a Low-Latency playlist request: at once, or, with
// _HLS_msn, once the segment (or the part _HLS_part) is listed, waiting at
// most three target durations (then 503); a segment or part too far
// ahead is 400 at once.
func (s *Server) livePlaylist(w http.ResponseWriter, r *http.Request, st *Stream) {
	q, err := parseLLQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pl := st.Playlist
	cache := "no-cache, no-store"
	if q.block {
		wait := 3 * pl.TargetDuration()
		ok, err := s.waitFor(r.Context(), pl, wait, func() (bool, error) { return pl.Ready(q.msn, q.part) })
		switch {
		case errors.Is(err, playlist.ErrTooFar):
			writeError(w, http.StatusBadRequest, err.Error())
			return
		case errors.Is(err, errBusy):
			s.busy(w)
			return
		case err != nil: // the client left
			return
		case !ok:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "segment "+strconv.FormatUint(uint64(q.msn), 10)+
				" part "+strconv.Itoa(q.part)+" did not come within three target durations")
			return
		}
		// A blocking request names what it waits for: its answer holds
		// that and may be reused for the same request (RFC 8216bis,
		// section 6.2.5.2, recommends caching it).
		cache = "public, max-age=" + strconv.Itoa(int(6*pl.TargetDuration()/time.Second))
	}
	w.Header().Set("Content-Type", playlistType)
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(pl.Live(q.skip)))
}

// errBusy is for a wait refused by Limits.Blocked.
var errBusy = errors.New("too many requests waiting")

// busy answers a request refused by Limits.Blocked.
func (s *Server) busy(w http.ResponseWriter) {
	s.limited("blocked")
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, "too many requests waiting for the live edge")
}

// waitFor waits until done reports true, or fails, at most wait: it
// reports false at the deadline, ctx's error if ctx ends or the server
// shuts down first, errBusy if Limits.Blocked requests wait already. A
// request done at once is not counted as waiting.
func (s *Server) waitFor(ctx context.Context, pl *playlist.Playlist, wait time.Duration, done func() (bool, error)) (bool, error) {
	if ok, err := done(); ok || err != nil {
		return ok, err
	}
	release, ok := s.admit()
	if !ok {
		return false, errBusy
	}
	defer release()
	return s.wait(ctx, pl, wait, done)
}

// admit counts a waiting request, if Limits.Blocked allows one more; the
// request calls release when it no longer waits.
func (s *Server) admit() (release func(), ok bool) {
	if s.blocked.Add(1) > int64(s.cfg.Limits.Blocked) {
		s.blocked.Add(-1)
		return nil, false
	}
	return func() { s.blocked.Add(-1) }, true
}

// wait is waitFor for a request already admitted.
func (s *Server) wait(ctx context.Context, pl *playlist.Playlist, wait time.Duration, done func() (bool, error)) (bool, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		changed := pl.Changed() // before looking, so no change falls in between
		if ok, err := done(); ok || err != nil {
			return ok, err
		}
		select {
		case <-changed:
		case <-timer.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-s.stopping:
			return false, errors.New("shutting down")
		}
	}
}

// partCacheValue is a part's Cache-Control. A part does not change once
// written; only a segment the muxer lost gives its number, and its parts'
// names, to the next one, so a part is cached for a minute, not for good.
var partCacheValue = []string{"public, max-age=60"}

// part serves part index of segment seq from memory. The next part to
// come (the preload hint) and the few after it are answered at once with
// the headers and, chunked, the bytes once the part is written; if it is
// not written within three target durations the response is cut short
// (a client sees a broken transfer, not a part). A part no longer in
// memory, or never to come, is 404.
func (s *Server) part(w http.ResponseWriter, r *http.Request, st *Stream, seq media.Seq, index int) {
	pl := st.Playlist
	name := media.PartName(seq, index)
	p, status := pl.Part(seq, index)
	switch status {
	case playlist.PartGone:
		writeError(w, http.StatusNotFound, "no part "+quote(name)+" in stream "+quote(st.Name))
		return
	case playlist.PartComing:
		release, ok := s.admit()
		if !ok {
			s.busy(w)
			return
		}
		defer release()
		h := w.Header()
		h["Content-Type"] = segmentTypeValues[media.FMP4]
		h["Cache-Control"] = partCacheValue
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		_ = http.NewResponseController(w).Flush() // the headers go now: chunked
		ok, err := s.wait(r.Context(), pl, 3*pl.TargetDuration(), func() (bool, error) {
			var here playlist.PartStatus
			p, here = pl.Part(seq, index)
			if here == playlist.PartGone {
				return false, errPartGone
			}
			return here == playlist.PartHere, nil
		})
		if !ok || err != nil {
			panic(http.ErrAbortHandler) // cut the chunked answer short: no part
		}
		_, _ = w.Write(p.Data)
		return
	}
	h := w.Header()
	h["Content-Type"] = segmentTypeValues[media.FMP4]
	h["Cache-Control"] = partCacheValue
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.Data))
}

// errPartGone is for a part waited for that will never come.
var errPartGone = errors.New("part gone")

// Waiting returns how many requests wait for a playlist update or a part
// (see Limits.Blocked).
func (s *Server) Waiting() int { return int(s.blocked.Load()) }
