package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/handlers"
	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server/metrics"
	"github.com/hlsmark/hlsmark/server/segcache"
)

// Stream is one live stream as the server sees it.
type Stream struct {
	// Name is the stream's name in URLs.
	Name string
	// Playlist lists the stream's segments; nil for a stream encoded on
	// another node, whose files Origin serves.
	Playlist *playlist.Playlist
	// Origin, set when Playlist is nil, serves the playlist and segments
	// of a stream encoded elsewhere (an edge's, from the object store).
	Origin Origin
	// Markers keeps the stream's markers.
	Markers *marker.Service
	// Cache, if set, holds the bytes of the stream's newest segments: a
	// listed segment found there is answered from memory, any other from
	// its file.
	Cache *segcache.Cache
	// State, if set, tells the stream's state and why (pipeline/stream's
	// State), as GET /api/streams lists it: live, starting, ended, or one
	// that makes the server not ready (/readyz): reconnecting, stalled,
	// failed. A failed or ended stream is served on, with EXT-X-ENDLIST.
	// Without it a stream is live until its playlist ends.
	State func() (state, reason string)
	// Input, Size and FPS describe what the stream shows, for GET
	// /api/streams: its input as given (a URL's password hidden), its
	// frame size ("WxH") and its nominal frame rate.
	Input string
	Size  string
	FPS   int
	// Counters, if set, returns the stream's running totals.
	Counters func() Counters
	// Frames, if set, makes the pictures of the stream's frames (marker
	// thumbnails, frame.jpg); without it they are answered 404.
	Frames Frames
	// Clips, if set, cuts MP4 clips of the stream's segments on disk
	// (clip.mp4); without it they are answered 404.
	Clips Clips
}

// Counters are a stream's running totals since it was last made, as GET
// /api/streams shows them.
type Counters struct {
	FramesEncoded   uint64 `json:"frames_encoded"`
	FramesLate      uint64 `json:"frames_late"`
	FramesRejected  uint64 `json:"frames_rejected"`
	SegmentsWritten uint64 `json:"segments_written"`
}

// Streams is the set of streams a server serves. It may change while the
// server runs (a supervisor makes a failed stream again, with a new
// playlist and marker service): the server asks it at every request.
type Streams interface {
	// Stream returns the stream called name, as it is now.
	Stream(name string) (*Stream, bool)
	// All returns every stream as it is now, by name.
	All() []*Stream
}

// Fixed is a set of streams that never changes.
type Fixed []*Stream

// Stream returns the stream called name.
func (f Fixed) Stream(name string) (*Stream, bool) {
	for _, st := range f {
		if st.Name == name {
			return st, true
		}
	}
	return nil, false
}

// All returns the streams, by name.
func (f Fixed) All() []*Stream {
	out := slices.Clone(f)
	slices.SortFunc(out, func(a, b *Stream) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// A stream's states, as /api/streams shows them.
const (
	stateLive         = "live"
	stateEnded        = "ended"
	stateFailed       = "failed"
	stateStalled      = "stalled"
	stateReconnecting = "reconnecting"
)

// state returns the stream's state and why: as its State says, or else
// live until its playlist ends.
func (st *Stream) state() (state, reason string) {
	switch {
	case st.State != nil:
		return st.State()
	case st.Playlist != nil && st.Playlist.Closed():
		return stateEnded, ""
	}
	return stateLive, ""
}

// unreadiness ranks the states that make the server not ready (/readyz),
// the worst highest; the others are 0.
var unreadiness = map[string]int{stateReconnecting: 1, stateStalled: 2, stateFailed: 3}

// Config configures the HTTP handler.
type Config struct {
	// Streams are the streams served.
	Streams Streams
	// Changes, if set, changes Streams for PUT and DELETE
	// /api/streams/{stream} (with a Token only); nil refuses them.
	Changes StreamChanges
	// CORSOrigins are the origins allowed to read the API and the stream
	// from other sites; "*" allows every origin (without credentials).
	// Empty allows none: the embedded player is same-origin.
	CORSOrigins []string
	// Token, if set, is the bearer token that writes (POST) must carry.
	Token  string
	Logger *slog.Logger
	// Metrics, if set, counts every request and is served at /metrics,
	// unless MetricsElsewhere says another listener serves it.
	Metrics          *metrics.Metrics
	MetricsElsewhere bool
	// MaxSubscribers bounds the open event streams per stream; beyond it a
	// new one gets 503, so idle or stalled clients cannot pile up.
	// Zero means 256.
	MaxSubscribers int
	// EventWriteTimeout bounds each write to an event stream, so a client
	// that stopped reading ties up only its own connection, and not for
	// long. Zero means 10 seconds.
	EventWriteTimeout time.Duration
	// Limits bound what clients may cost; zero fields take DefaultLimits.
	Limits Limits
	// TrustedProxies are the addresses of proxies in front (a caching
	// tier, a load balancer) whose X-Forwarded-For names the client the
	// per-client limits count; none: every client is its peer address.
	TrustedProxies []netip.Prefix
}

// Server routes hlsmark's HTTP requests.
type Server struct {
	cfg      Config
	router   *mux.Router
	handler  http.Handler
	stopping chan struct{} // closed by Shutdown
	stopOnce sync.Once

	posts *clientLimiter // marker POSTs per client
	reads *clientLimiter // markers listed or replayed per client

	postsMu     sync.Mutex
	streamPosts map[string]*rate.Limiter // markers posted per stream, made at its first post

	blocked atomic.Int64 // requests waiting for a playlist update or a part (Limits.Blocked)
}

// streamPostLimiter returns the limiter of the markers posted to the
// stream called name.
func (s *Server) streamPostLimiter(name string) *rate.Limiter {
	s.postsMu.Lock()
	defer s.postsMu.Unlock()
	l, ok := s.streamPosts[name]
	if !ok {
		perMinute := s.cfg.Limits.StreamMarkersPerMinute
		l = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), perMinute)
		s.streamPosts[name] = l
	}
	return l
}

// Shutdown ends the event streams, which would otherwise keep an
// http.Server's graceful shutdown waiting forever. Register it with
// http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() {
	s.stopOnce.Do(func() { close(s.stopping) })
}

// New returns the server's handler.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxSubscribers == 0 {
		cfg.MaxSubscribers = 256
	}
	if cfg.EventWriteTimeout == 0 {
		cfg.EventWriteTimeout = 10 * time.Second
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Streams == nil {
		cfg.Streams = Fixed{}
	}
	s := &Server{cfg: cfg, router: mux.NewRouter(), stopping: make(chan struct{}),
		posts:       newClientLimiter(cfg.Limits.PostRate, cfg.Limits.PostBurst, cfg.TrustedProxies),
		reads:       newClientLimiter(cfg.Limits.ListRate, cfg.Limits.ListBurst, cfg.TrustedProxies),
		streamPosts: map[string]*rate.Limiter{}}
	r := s.router
	// No path cleaning: gorilla would answer a dot-segment path with a
	// redirect to its cleaned form, which may leave /streams/ or (for an
	// absolute-form request target) the host. Paths with dot segments or
	// empty segments match no route and get a 404.
	r.SkipClean(true)
	// Routes are tried in order: the stream's, which viewers ask for
	// every second or two, first.
	r.HandleFunc("/streams/{stream}/index.m3u8", s.playlist).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/streams/{stream}/vod.m3u8", s.vod).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/streams/{stream}/{segment}", s.segment).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/healthz", s.health).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.ready).Methods(http.MethodGet, http.MethodHead)
	if cfg.Metrics != nil && !cfg.MetricsElsewhere {
		r.Handle("/metrics", cfg.Metrics.Handler()).Methods(http.MethodGet, http.MethodHead)
	}
	s.routeWeb(r)
	s.routeMarkers(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no route for "+quote(r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, quote(r.Method)+" is not allowed on "+quote(r.URL.Path))
	})
	h := cfg.Metrics.Instrument(r, r)
	if len(cfg.CORSOrigins) > 0 {
		h = handlers.CORS(
			handlers.AllowedOrigins(cfg.CORSOrigins),
			handlers.AllowedMethods([]string{http.MethodGet, http.MethodHead, http.MethodPost}),
			handlers.AllowedHeaders([]string{"Content-Type", "Authorization", "Last-Event-ID", "Range"}),
			handlers.MaxAge(600),
		)(h)
		h = varyOrigin(h)
	}
	s.handler = s.bodyDeadline(s.logRequests(h))
	return s
}

// varyOrigin marks every answer as depending on the Origin header, as its
// CORS headers do. Without it a shared cache could hand an answer made
// without them (segments are cached for a year) to an allowed origin.
func varyOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// stream returns the stream named in the route, or answers 404.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) (*Stream, bool) {
	name := mux.Vars(r)["stream"]
	st, ok := s.cfg.Streams.Stream(name)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown stream "+quote(name))
	}
	return st, ok
}

// quote quotes a client-supplied value for an error message, cut short so
// a huge value cannot make a huge answer.
func quote(v string) string {
	const most = 64
	if len(v) > most {
		v = v[:most] + "..."
	}
	return `"` + v + `"`
}

// health is the liveness check: the process answers HTTP.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready is the readiness check: 503 while any stream is stalled, its
// input is being reconnected, or its source has failed, naming the
// streams and why. The status is the worst of their states: failed, then
// stalled, then reconnecting.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	unready := map[string]string{}
	status := ""
	for _, st := range s.cfg.Streams.All() {
		state, why := st.state()
		if unreadiness[state] == 0 {
			continue
		}
		if state == stateFailed {
			why = "the source failed: " + why
		} else if state == stateReconnecting {
			why = "reconnecting: " + why
		}
		unready[st.Name] = why
		if unreadiness[state] > unreadiness[status] {
			status = state
		}
	}
	if len(unready) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": status, "streams": unready})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (SSE flushes).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Log lines are for --debug: without it, serve without a clock
		// reading, a wrapper and the line's allocations.
		if !s.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.cfg.Logger.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", time.Since(start))
	})
}
