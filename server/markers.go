package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/hlsmark/hlsmark/docs"
	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// Limits of the marker API.
const (
	maxBody      = 64 << 10 // bytes in a POST body
	defaultLimit = 100      // markers in a list answer
	maxLimit     = 1000
)

// markerView is a marker as the API shows it (see docs/openapi.json).
type markerView struct {
	ID              marker.ID       `json:"id"`
	Label           string          `json:"label"`
	PTS             int64           `json:"pts"`
	Time            float64         `json:"time"`
	Duration        *float64        `json:"duration"`
	Sequence        *media.Seq      `json:"sequence"`
	Offset          *float64        `json:"offset"`
	Part            *int            `json:"part"`
	ProgramDateTime string          `json:"program_date_time"`
	VODURL          *string         `json:"vod_url"`
	Source          marker.Source   `json:"source"`
	Data            json.RawMessage `json:"data"`
}

// view renders m with its current place in the stream.
func view(svc *marker.Service, m marker.Marker) markerView {
	v := markerView{
		ID:              m.ID,
		Label:           m.Label,
		PTS:             int64(m.PTS.TS()),
		Time:            m.PTS.Seconds(),
		ProgramDateTime: playlist.FormatTime(svc.Timeline().Time(m.PTS)),
		Source:          m.Source,
		Data:            m.Data,
	}
	if m.Duration > 0 {
		d := m.Duration.Seconds()
		v.Duration = &d
	}
	if pos, ok := svc.Position(m.PTS); ok {
		off := pos.Offset.Seconds()
		v.Sequence, v.Offset = &pos.Seq, &off
		if pos.PartKnown {
			v.Part = &pos.Part
		}
		u := vodURL(svc.Stream(), m.PTS)
		v.VODURL = &u
	}
	if len(v.Data) == 0 {
		v.Data = json.RawMessage("{}")
	}
	return v
}

func (s *Server) routeMarkers(r *mux.Router) {
	r.HandleFunc("/api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(docs.OpenAPI)
	}).Methods(http.MethodGet)
	r.HandleFunc("/api/streams", s.listStreams).Methods(http.MethodGet)
	r.HandleFunc("/api/streams/{stream}/markers", s.listMarkers).Methods(http.MethodGet)
	r.Handle("/api/streams/{stream}/markers", s.requireToken(http.HandlerFunc(s.postMarker))).Methods(http.MethodPost)
	r.HandleFunc("/api/streams/{stream}/markers/events", s.markerEvents).Methods(http.MethodGet)
	r.HandleFunc("/api/streams/{stream}/markers/{id}", s.getMarker).Methods(http.MethodGet)
	r.Handle("/api/streams/{stream}/markers/{id}", s.requireToken(http.HandlerFunc(s.patchMarker))).Methods(http.MethodPatch)
	r.Handle("/api/streams/{stream}/markers/{id}", s.requireToken(http.HandlerFunc(s.deleteMarker))).Methods(http.MethodDelete)
	r.HandleFunc("/api/streams/{stream}/markers/{id}/thumbnail.jpg", s.thumbnail).Methods(http.MethodGet)
	r.HandleFunc("/api/streams/{stream}/frame.jpg", s.frame).Methods(http.MethodGet)
	r.HandleFunc("/api/streams/{stream}/markers/{id}/clip.mp4", s.markerClip).Methods(http.MethodGet)
	r.HandleFunc("/api/streams/{stream}/clip.mp4", s.rangeClip).Methods(http.MethodGet)
	r.Handle("/api/streams/{stream}", s.requireToken(http.HandlerFunc(s.putStream))).Methods(http.MethodPut)
	r.Handle("/api/streams/{stream}", s.requireToken(http.HandlerFunc(s.deleteStream))).Methods(http.MethodDelete)
}

// streamView is a stream as GET /api/streams lists it.
type streamView struct {
	Name          string     `json:"name"`
	State         string     `json:"state"`
	Playlist      string     `json:"playlist"`
	Markers       string     `json:"markers"`
	MediaSequence *media.Seq `json:"media_sequence"`
	Segments      int        `json:"segments"`
	WindowSeconds float64    `json:"window_seconds"`
	// Reason says why a stalled stream is stalled, when known, why a
	// failed one failed, and why a reconnecting one lost its input.
	Reason   string    `json:"reason,omitempty"`
	Input    string    `json:"input,omitempty"`
	Size     string    `json:"size,omitempty"`
	FPS      int       `json:"fps,omitempty"`
	Counters *Counters `json:"counters,omitempty"`
	// Epoch is the wall-clock time of PTS 0: a frame's program date time
	// is Epoch plus its PTS (unwrapped).
	Epoch *time.Time `json:"epoch,omitempty"`
	// Local says the node has the stream's segments on disk, and so
	// serves its thumbnails, frame.jpg, clips and VOD playlists; an edge,
	// which reads the segments from the object store, does not.
	Local bool `json:"local"`
}

func (s *Server) listStreams(w http.ResponseWriter, r *http.Request) {
	out := []streamView{}
	for _, st := range s.cfg.Streams.All() {
		out = append(out, streamViewOf(st))
	}
	writeJSON(w, http.StatusOK, map[string]any{"streams": out})
}

// streamViewOf returns st as GET /api/streams lists it.
func streamViewOf(st *Stream) streamView {
	v := streamView{
		Name:     st.Name,
		Playlist: "/streams/" + st.Name + "/index.m3u8",
		Markers:  "/api/streams/" + st.Name + "/markers",
		Input:    st.Input,
		Size:     st.Size,
		FPS:      st.FPS,
	}
	v.State, v.Reason = st.state()
	if st.Markers != nil {
		e := st.Markers.Timeline().Epoch.UTC()
		v.Epoch = &e
	}
	if st.Counters != nil {
		c := st.Counters()
		v.Counters = &c
	}
	if st.Playlist != nil {
		v.Local = true
		segs := st.Playlist.Segments()
		v.Segments = len(segs)
		for _, seg := range segs {
			v.WindowSeconds += seg.Duration.Seconds()
		}
		if len(segs) > 0 {
			v.MediaSequence = &segs[0].Seq
		}
	}
	return v
}

// markers returns the stream's marker service, or answers 404.
func (s *Server) markers(w http.ResponseWriter, r *http.Request) (*marker.Service, bool) {
	st, ok := s.stream(w, r)
	if !ok {
		return nil, false
	}
	if st.Markers == nil {
		writeError(w, http.StatusNotFound, "stream "+quote(st.Name)+" keeps no markers here")
		return nil, false
	}
	return st.Markers, true
}

// uintParam parses an optional non-negative integer query parameter.
func uintParam(r *http.Request, name string, def uint64) (uint64, error) {
	raw, err := queryValues(r, name)
	if err != nil || len(raw) == 0 {
		return def, err
	}
	if len(raw) != 1 {
		return 0, errors.New(name + ": give it once")
	}
	n, err := strconv.ParseUint(raw[0], 10, 64)
	if err != nil {
		return 0, errors.New(name + ": must be a non-negative integer, got " + quote(raw[0]))
	}
	return n, nil
}

// queryValues returns the values of query parameter name, read from the
// raw query: a value url.ParseQuery would drop without a word (a bad
// %-escape, a semicolon) is refused, naming the parameter, not ignored.
func queryValues(r *http.Request, name string) ([]string, error) {
	var out []string
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != name {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errors.New(name + ": malformed %-escape in " + quote(v))
		}
		out = append(out, val)
	}
	return out, nil
}

func (s *Server) listMarkers(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.markers(w, r)
	if !ok {
		return
	}
	filter, given, err := markerFilter(r, svc)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	after, err := uintParam(r, "after", 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := uintParam(r, "limit", defaultLimit)
	if err == nil && (limit < 1 || limit > maxLimit) {
		err = errors.New("limit: must be from 1 to " + strconv.Itoa(maxLimit))
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if ok, wait := s.reads.allow(r, int(limit)); !ok {
		s.tooMany(w, "list_rate", wait, fmt.Sprintf("this client reads too many markers: at most %g a second (%d at once); ask for fewer with limit, or wait",
			s.cfg.Limits.ListRate, s.cfg.Limits.ListBurst))
		return
	}
	ms, last, more, err := search(r.Context(), svc, filter, marker.ID(after), int(limit))
	if err != nil {
		s.internalError(w, err)
		return
	}
	// The answer is built to at most ListBytes: markers with large data
	// would otherwise make a listing of a thousand of them many megabytes.
	out := markerList{Markers: []json.RawMessage{}}
	size := len(`{"markers":[],"next":""}`) + 256 // the next link's room
	for _, m := range ms {
		b, err := json.Marshal(view(svc, m))
		if err != nil {
			s.internalError(w, err)
			return
		}
		if size+len(b)+1 > s.cfg.Limits.ListBytes && len(out.Markers) > 0 {
			s.limited("list_bytes")
			break
		}
		size += len(b) + 1
		out.Markers = append(out.Markers, b)
	}
	// The list goes on after the last marker answered if it was cut short,
	// or else after the last marker read, if more may follow.
	if n := len(out.Markers); n < len(ms) {
		last, more = ms[n-1].ID, true
	}
	if more {
		given.Set("after", strconv.FormatUint(uint64(last), 10))
		given.Set("limit", strconv.FormatUint(limit, 10))
		out.Next = "/api/streams/" + svc.Stream() + "/markers?" + given.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

// markerList is the answer of GET /api/streams/{stream}/markers.
type markerList struct {
	Markers []json.RawMessage `json:"markers"`
	// Next is where the list goes on, with the same filters, when more
	// markers may follow: the answer held limit markers, was cut short at
	// ListBytes, or a filtered listing stopped reading at maxScan.
	Next string `json:"next,omitempty"`
}

func (s *Server) getMarker(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.markers(w, r)
	if !ok {
		return
	}
	if m, ok := s.markerOf(w, r, svc); ok {
		writeJSON(w, http.StatusOK, view(svc, m))
	}
}

// markerOf returns the marker the URL's {id} names, or answers 400 or 404.
func (s *Server) markerOf(w http.ResponseWriter, r *http.Request, svc *marker.Service) (marker.Marker, bool) {
	id, ok := markerID(w, r)
	if !ok {
		return marker.Marker{}, false
	}
	m, err := svc.Store().Get(r.Context(), svc.Stream(), id)
	switch {
	case errors.Is(err, marker.ErrNotFound):
		notFound(w, svc, id)
	case err != nil:
		s.internalError(w, err)
	default:
		return m, true
	}
	return marker.Marker{}, false
}

// markerID reads the marker ID in the path, or answers 400.
func markerID(w http.ResponseWriter, r *http.Request) (marker.ID, bool) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, "id: must be a positive integer, got "+quote(raw))
		return 0, false
	}
	return marker.ID(id), true
}

// notFound answers 404 for a marker the stream does not have (or no
// longer has).
func notFound(w http.ResponseWriter, svc *marker.Service, id marker.ID) {
	writeError(w, http.StatusNotFound, "no marker "+strconv.FormatUint(uint64(id), 10)+" in stream "+quote(svc.Stream()))
}

func (s *Server) postMarker(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.markers(w, r)
	if !ok {
		return
	}
	if !s.requireJSON(w, r) {
		return
	}
	if !s.allowWrite(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	m, byPTS, err := decodeMarkerRequest(body, svc.Timeline(), s.cfg.Limits)
	if err != nil {
		s.refuseBody(w, err)
		return
	}
	if ok, wait := take(s.streamPostLimiter(svc.Stream()), 1); !ok {
		s.tooMany(w, "stream_rate", wait, fmt.Sprintf("too many markers posted to stream %s: at most %d a minute",
			quote(svc.Stream()), s.cfg.Limits.StreamMarkersPerMinute))
		return
	}
	if byPTS {
		// A posted pts is a TS timestamp (33 bits): it stands for its latest
		// instance up to the present, which the range check then judges.
		_, now := svc.Range()
		m.PTS = clock.LatestAt(m.PTS, now)
	}
	m, err = svc.Post(r.Context(), m)
	switch {
	case errors.Is(err, marker.ErrOutOfRange):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.internalError(w, err)
	default:
		w.Header().Set("Location", "/api/streams/"+svc.Stream()+"/markers/"+strconv.FormatUint(uint64(m.ID), 10))
		writeJSON(w, http.StatusCreated, view(svc, m))
	}
}

// internalError logs err and answers 500 without its details.
func (s *Server) internalError(w http.ResponseWriter, err error) {
	s.cfg.Logger.Error("http", "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}
