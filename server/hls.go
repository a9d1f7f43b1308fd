package server

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/gorilla/mux"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// playlistType is the media type of playlists (RFC 8216, section 4);
// segments' are their format's (media.Format.ContentType).
const playlistType = "application/vnd.apple.mpegurl"

func (s *Server) playlist(w http.ResponseWriter, r *http.Request) {
	st, ok := s.stream(w, r)
	if !ok {
		return
	}
	if st.Playlist == nil {
		s.fromOrigin(w, r, st, "index.m3u8")
		return
	}
	if st.Playlist.LowLatency() {
		s.livePlaylist(w, r, st)
		return
	}
	w.Header().Set("Content-Type", playlistType)
	// A live playlist changes every segment: always fetch it anew.
	w.Header().Set("Cache-Control", "no-cache, no-store")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(st.Playlist.Encoded()))
}

// segment serves a segment, from the stream's cache if it holds it, else
// from its file. The name must be a segment's canonical file name and the
// segment must still be known to the playlist; the file path comes from
// the playlist, never from the request, so no request can reach a file
// outside the stream's folder.
func (s *Server) segment(w http.ResponseWriter, r *http.Request) {
	st, ok := s.stream(w, r)
	if !ok {
		return
	}
	name := mux.Vars(r)["segment"]
	if st.Playlist == nil {
		s.fromOrigin(w, r, st, name)
		return
	}
	if path, ok := st.Playlist.InitPath(name); ok {
		serveInit(w, r, path)
		return
	}
	if seq, index, ok := media.ParsePartName(name); ok && st.Playlist.LowLatency() {
		s.part(w, r, st, seq, index)
		return
	}
	seq, ok := st.Playlist.Format().ParseSegmentName(name)
	if !ok {
		writeError(w, http.StatusNotFound, "not a segment name: "+quote(name))
		return
	}
	seg, ok := st.Playlist.Segment(seq)
	if !ok {
		writeError(w, http.StatusNotFound, "no segment "+quote(name)+" in stream "+quote(st.Name))
		return
	}
	if data, ok := st.Cache.Get(seq); ok {
		serveSegmentBytes(w, r, seg, data)
		return
	}
	// The muxer writes regular files; a symlink or anything else put in
	// the stream's folder in their place is not followed out of it.
	f, err := os.OpenFile(seg.Path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		writeError(w, http.StatusNotFound, "segment "+quote(name)+" is gone")
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "segment "+quote(name)+" is not a regular file")
		return
	}
	serveSegment(w, r, seg, f)
}

// serveInit answers with an fMP4 stream's init segment, from its file.
// Unlike a media segment it is rewritten by each run of the stream, so a
// client revalidates it (no-cache) rather than keeping it for good.
func serveInit(w http.ResponseWriter, r *http.Request, path string) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		writeError(w, http.StatusNotFound, "no init segment yet: the stream has written no segment")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "the init segment is not a regular file")
		return
	}
	w.Header().Set("Content-Type", media.InitType)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// The values of the headers every answer with a segment carries, made
// once: net/http only reads them. Sequence numbers are never reused, so a
// segment never changes and may be cached for good.
var (
	segmentTypeValues = map[media.Format][]string{media.TS: {media.TS.ContentType()}, media.FMP4: {media.FMP4.ContentType()}}
	segmentCacheValue = []string{"public, max-age=31536000, immutable"}
	acceptRangesValue = []string{"bytes"}
)

// segmentHeaders sets the headers every answer with a segment in format f
// carries.
func segmentHeaders(h http.Header, f media.Format) {
	h["Content-Type"] = segmentTypeValues[f]
	h["Cache-Control"] = segmentCacheValue
}

// serveSegment answers with a segment's bytes, whole or the ranges asked.
func serveSegment(w http.ResponseWriter, r *http.Request, seg media.Segment, content io.ReadSeeker) {
	segmentHeaders(w.Header(), seg.Format)
	http.ServeContent(w, r, "", seg.Start, content)
}

// serveSegmentBytes answers with a segment's bytes held in memory. A plain
// GET or HEAD, as players send for the live edge, gets the headers
// http.ServeContent would send and the bytes in one write: ServeContent
// copies a bytes.Reader through a 32 KiB buffer it allocates per request
// (io.CopyN hides the reader's WriteTo), which took most of the time of a
// segment request. Ranges and conditional requests go through
// http.ServeContent, which answers them as it does for a file.
func serveSegmentBytes(w http.ResponseWriter, r *http.Request, seg media.Segment, data []byte) {
	if !plainRequest(r) {
		serveSegment(w, r, seg, bytes.NewReader(data))
		return
	}
	h := w.Header()
	segmentHeaders(h, seg.Format)
	h["Accept-Ranges"] = acceptRangesValue
	h["Last-Modified"] = []string{seg.Start.UTC().Format(http.TimeFormat)}
	h["Content-Length"] = []string{strconv.Itoa(len(data))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data) // a write error is the client gone: nothing to tell it
	}
}

// rangeAndConditionHeaders are the request headers that ask for part of a
// resource or set a condition on it (RFC 9110, sections 13 and 14).
var rangeAndConditionHeaders = []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"}

// plainRequest reports whether r asks for a whole resource, unconditionally.
func plainRequest(r *http.Request) bool {
	for _, k := range rangeAndConditionHeaders {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
}
