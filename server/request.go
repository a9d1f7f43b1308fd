package server

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Limits on a posted marker.
const (
	maxLabel    = 200 // characters
	maxDuration = 24 * time.Hour
)

// markerRequest is the body of POST /api/streams/{stream}/markers.
type markerRequest struct {
	Label    *string         `json:"label"`
	PTS      json.RawMessage `json:"pts"`
	Time     *string         `json:"time"`
	Duration json.RawMessage `json:"duration"`
	Data     json.RawMessage `json:"data"`
}

// decodeMarkerRequest parses and checks a POST body. Every error names the
// field at fault. byPTS says the place was given as a TS timestamp (m.PTS
// is then below clock.Wrap and still to be unwrapped); the range is checked
// later, against the stream.
func decodeMarkerRequest(body []byte, tl clock.Timeline, lim Limits) (m marker.Marker, byPTS bool, err error) {
	var req markerRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return m, false, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, false, errors.New("body: must hold one JSON object and nothing after it")
	}
	m, err = decodeMarker(req, tl, lim)
	return m, req.PTS != nil, err
}

// decodeMarker checks the fields of a decoded request.
func decodeMarker(req markerRequest, tl clock.Timeline, lim Limits) (marker.Marker, error) {
	var m marker.Marker
	var err error
	if m.Label, err = checkLabel(req.Label); err != nil {
		return m, err
	}
	switch {
	case req.PTS != nil && req.Time != nil:
		return m, errors.New("pts, time: give one of them, not both")
	case req.PTS != nil:
		n, err := strconv.ParseInt(string(req.PTS), 10, 64)
		if err != nil {
			return m, fmt.Errorf("pts: must be an integer count of 90 kHz ticks, got %s", quote(string(req.PTS)))
		}
		if n < 0 || n >= int64(clock.Wrap) {
			return m, errors.New("pts: must be an MPEG-TS timestamp, from 0 to 2^33-1")
		}
		m.PTS = clock.Ticks(n)
	case req.Time != nil:
		t, err := time.Parse(time.RFC3339Nano, *req.Time)
		if err != nil {
			return m, fmt.Errorf("time: must be an RFC 3339 date-time like 2026-11-24T10:00:00.123Z, got %s", quote(*req.Time))
		}
		if t.Before(tl.Epoch) {
			return m, fmt.Errorf("time: %s is before the stream started", quote(*req.Time))
		}
		m.PTS = tl.PTS(t)
	default:
		return m, errors.New("pts, time: one of them is required")
	}
	if req.Duration != nil {
		if m.Duration, err = parseDuration(req.Duration); err != nil {
			return m, err
		}
	}
	if req.Data != nil && string(req.Data) != "null" {
		if err := checkData(req.Data, lim); err != nil {
			return m, err
		}
		m.Data = append(json.RawMessage(nil), req.Data...)
	}
	return m, nil
}

// parseDuration parses a marker's duration field: seconds, from 0 to
// maxDuration.
func parseDuration(raw json.RawMessage) (clock.Ticks, error) {
	f, err := strconv.ParseFloat(string(raw), 64)
	d, ok := clock.FromSeconds(f)
	if err != nil || !ok || f < 0 || f > maxDuration.Seconds() {
		return 0, fmt.Errorf("duration: must be a number of seconds from 0 to %d, got %s", int(maxDuration.Seconds()), quote(string(raw)))
	}
	return d, nil
}

// CheckMarker checks a marker that a Go program adds (see server/live) as
// a POST's body is checked: its label (returned trimmed), its duration and
// its data (a JSON object, or none), within lim (zero fields take
// DefaultLimits). Every error names the field at fault.
func CheckMarker(m marker.Marker, lim Limits) (marker.Marker, error) {
	var err error
	if m.Label, err = checkLabel(&m.Label); err != nil {
		return m, err
	}
	if m.Duration < 0 || m.Duration.Duration() > maxDuration {
		return m, fmt.Errorf("duration: must be from 0 to %s, got %s", maxDuration, m.Duration.Duration())
	}
	if len(m.Data) == 0 {
		return m, nil
	}
	if !json.Valid(m.Data) {
		return m, errors.New("data: must be valid JSON")
	}
	return m, checkData(m.Data, lim.withDefaults())
}

// errDataLimit marks a data object refused for its size or depth.
type errDataLimit struct {
	limit string // as in hlsmark_http_limited_total
	msg   string
}

func (e errDataLimit) Error() string { return e.msg }

// checkData checks a marker's data: a JSON object in valid UTF-8 (the
// standard decoder lets invalid bytes through in a raw value, and strict
// clients would then fail on the whole list), within the size and nesting
// limits.
func checkData(raw json.RawMessage, lim Limits) error {
	switch {
	case !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")):
		return errors.New("data: must be a JSON object")
	case len(raw) > lim.DataBytes:
		return errDataLimit{"data_bytes", fmt.Sprintf("data: must be at most %d bytes, got %d", lim.DataBytes, len(raw))}
	case !utf8.Valid(raw):
		return errors.New("data: must be valid UTF-8")
	}
	if most := jsonDepth(raw); most > lim.DataDepth {
		return errDataLimit{"data_depth", fmt.Sprintf("data: must nest at most %d levels deep, got %d", lim.DataDepth, most)}
	}
	return nil
}

func checkLabel(label *string) (string, error) {
	if label == nil {
		return "", errors.New("label: is required")
	}
	l := strings.TrimSpace(*label)
	switch {
	case l == "":
		return "", errors.New("label: must not be empty")
	case !utf8.ValidString(l):
		return "", errors.New("label: must be valid UTF-8")
	case utf8.RuneCountInString(l) > maxLabel:
		return "", fmt.Errorf("label: must be at most %d characters", maxLabel)
	case strings.ContainsFunc(l, unicode.IsControl):
		return "", errors.New("label: must not contain control characters")
	case strings.ContainsFunc(l, isSeparatorOrBidi):
		return "", errors.New("label: must not contain line or paragraph separators (U+2028, U+2029) or bidirectional controls")
	}
	return l, nil
}

// isSeparatorOrBidi reports the characters a label may not hold although
// they are not control characters: the line and paragraph separators
// (JavaScript and some playlist readers end a line there) and the
// bidirectional formatting characters, which can make a label display as
// something other than what it is.
func isSeparatorOrBidi(r rune) bool {
	switch {
	case r == '\u2028', r == '\u2029':
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// jsonDepth returns how deeply a valid JSON value nests: 1 for an object
// of scalars. Brackets inside strings do not count.
func jsonDepth(raw []byte) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	depth, most := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return most
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			most = max(most, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// describeJSONError turns a decoding error into a message naming the field.
func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("body: invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("%s: must be a %s, got a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("body: must be a JSON object, got a JSON %s", typ.Value)
	case errors.Is(err, io.EOF):
		return errors.New("body: is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("body: invalid JSON: it ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return fmt.Errorf("body: invalid JSON: %v", err)
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "ptr", "slice":
		return "value of another type"
	}
	return "number"
}

// readBody reads a request body of at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}

// refuseBody answers a body that a decoder refused: 413 for marker data
// over a limit (counted, see Server.limited), 400 naming the field for
// anything else.
func (s *Server) refuseBody(w http.ResponseWriter, err error) {
	var dl errDataLimit
	if errors.As(err, &dl) {
		s.limited(dl.limit)
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// requireJSON answers 415 unless the request's Content-Type is JSON. A
// browser sends one cross-site only after a CORS preflight, so no other
// site's page can write (without one, fetch's no-cors mode and sendBeacon
// could).
func (s *Server) requireJSON(w http.ResponseWriter, r *http.Request) bool {
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type: must be application/json, got "+quote(ct))
		return false
	}
	return true
}

// readBody reads the request's body, answering 413 for one too large,
// 408 for one too slow to come (see Limits.BodyTimeout) and 400 for any
// other failure.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := readBody(w, r)
	if err == nil {
		return body, true
	}
	var tooBig *http.MaxBytesError
	var timeout net.Error
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "body: larger than "+strconv.Itoa(maxBody)+" bytes")
	case errors.As(err, &timeout) && timeout.Timeout():
		s.limited("body_timeout")
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestTimeout, "body: not received within "+s.cfg.Limits.BodyTimeout.String())
	default:
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
	}
	return nil, false
}

// isJSON reports whether a Content-Type is JSON.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// requireToken lets a request through only with the configured bearer
// token; with no token configured, every request goes through. The check
// answers before any body is read, and closes the connection rather than
// wait for a body it will not use.
func (s *Server) requireToken(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hlsmark"`)
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusUnauthorized, "Authorization: a valid bearer token is required to write")
			return
		}
		next.ServeHTTP(w, r)
	})
}
