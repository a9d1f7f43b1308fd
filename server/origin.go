package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Origin holds the files of a stream encoded on another node: its
// playlist (index.m3u8), segments and fMP4 init segment, as that node
// published them.
type Origin interface {
	// File returns the stream's file called name, with the media type and
	// Cache-Control it was published with; ErrNoFile (wrapped) when there
	// is none.
	File(ctx context.Context, name string) (OriginFile, error)
}

// OriginFile is a file an Origin holds.
type OriginFile struct {
	Data         []byte
	ContentType  string
	CacheControl string
}

// ErrNoFile is returned by an Origin for a file it does not hold.
var ErrNoFile = errors.New("no such file")

// fromOrigin answers with the file called name of a stream that has no
// playlist here, with the headers it was published with: a playlist's
// no-cache reaches the client, so neither this node nor a cache in front
// of it keeps a playlist longer than its publisher allows. Only the
// names a stream publishes are asked of the origin.
func (s *Server) fromOrigin(w http.ResponseWriter, r *http.Request, st *Stream, name string) {
	if !publishedName(name) {
		writeError(w, http.StatusNotFound, "not a playlist or segment name: "+quote(name))
		return
	}
	f, err := st.Origin.File(r.Context(), name)
	switch {
	case errors.Is(err, ErrNoFile):
		writeError(w, http.StatusNotFound, "no "+quote(name)+" in stream "+quote(st.Name))
		return
	case err != nil:
		s.cfg.Logger.Error("http", "stream", st.Name, "file", name, "err", err)
		writeError(w, http.StatusBadGateway, "the stream's store did not answer for "+quote(name))
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	if f.CacheControl != "" {
		w.Header().Set("Cache-Control", f.CacheControl)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Data))
}

// publishedName reports whether name is one a stream publishes: its
// playlist, a segment's canonical name in either format, or an init
// segment (the current run's or an earlier run's).
func publishedName(name string) bool {
	if name == "index.m3u8" || name == media.InitName {
		return true
	}
	if _, ok := media.ParseRunInitName(name); ok {
		return true
	}
	_, ts := media.TS.ParseSegmentName(name)
	_, fmp4 := media.FMP4.ParseSegmentName(name)
	return ts || fmp4
}
