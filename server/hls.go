package server

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gorilla/mux"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// The media types of RFC 8216, section 4.
const (
	playlistType = "application/vnd.apple.mpegurl"
	segmentType  = "video/mp2t"
)

func (s *Server) playlist(w http.ResponseWriter, r *http.Request) {
	st, ok := s.stream(w, r)
	if !ok {
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
	seq, ok := media.ParseSegmentName(name)
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
		serveSegment(w, r, seg, bytes.NewReader(data))
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

// serveSegment answers with a segment's bytes, whole or the ranges asked.
func serveSegment(w http.ResponseWriter, r *http.Request, seg media.Segment, content io.ReadSeeker) {
	w.Header().Set("Content-Type", segmentType)
	// Sequence numbers are never reused, so a segment never changes.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", seg.Start, content)
}
