package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
)

// StreamChanges changes the set of streams a server serves, for PUT and
// DELETE /api/streams/{stream}.
type StreamChanges interface {
	// Put starts the stream called name with settings (the keys of a
	// config file's stream entry, with their values as text), or replaces
	// the stream running under that name, which it goes on from; created
	// says which. An *InvalidError says what is wrong with the settings.
	Put(name string, settings []Setting) (created bool, err error)
	// Delete stops the stream called name: its playlist ends, and it is
	// served on as it is. With purge, its recording and markers are
	// deleted too, and it is served no more. ErrUnknownStream if there is
	// no such stream.
	Delete(name string, purge bool) error
}

// Setting is one key of a stream's settings and its value as text, as a
// flag takes it.
type Setting struct {
	Key, Value string
}

// InvalidError is a change refused for what it asks: the server answers
// 400 with its message.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

// ErrUnknownStream is what StreamChanges.Delete returns for a name it
// does not serve.
var ErrUnknownStream = errors.New("unknown stream")

// putStream starts or replaces a stream: 201 with the stream as GET
// /api/streams lists it when new, 200 when replaced.
func (s *Server) putStream(w http.ResponseWriter, r *http.Request) {
	if !s.canChangeStreams(w) || !s.requireJSON(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	settings, err := decodeSettings(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	name := mux.Vars(r)["stream"]
	created, err := s.cfg.Changes.Put(name, settings)
	var invalid *InvalidError
	switch {
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, invalid.Msg)
		return
	case err != nil:
		s.internalError(w, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
		w.Header().Set("Location", "/api/streams/"+name)
	}
	for _, st := range s.cfg.Streams.All() {
		if st.Name == name {
			writeJSON(w, code, streamViewOf(st))
			return
		}
	}
	writeJSON(w, code, map[string]string{"name": name})
}

// deleteStream stops a stream (?purge=true: and deletes its recording and
// markers): 204.
func (s *Server) deleteStream(w http.ResponseWriter, r *http.Request) {
	if !s.canChangeStreams(w) {
		return
	}
	purge := false
	if raw, err := queryValues(r, "purge"); err != nil || len(raw) > 1 {
		writeError(w, http.StatusBadRequest, "purge: give it once, true or false")
		return
	} else if len(raw) == 1 {
		if purge, err = strconv.ParseBool(raw[0]); err != nil {
			writeError(w, http.StatusBadRequest, "purge: "+quote(raw[0])+" is not true or false")
			return
		}
	}
	name := mux.Vars(r)["stream"]
	err := s.cfg.Changes.Delete(name, purge)
	var invalid *InvalidError
	switch {
	case errors.Is(err, ErrUnknownStream):
		writeError(w, http.StatusNotFound, "unknown stream "+quote(name))
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, invalid.Msg)
	case err != nil:
		s.internalError(w, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// canChangeStreams answers 405 for a server whose streams cannot change
// (run from flags) and 403 for one without a token: changing streams
// starts inputs and deletes recordings, so it is never open to anyone.
func (s *Server) canChangeStreams(w http.ResponseWriter) bool {
	switch {
	case s.cfg.Changes == nil:
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "this server's stream comes from its flags: run hlsmark serve --config FILE to change streams through the API")
		return false
	case s.cfg.Token == "":
		writeError(w, http.StatusForbidden, "changing streams needs the server to run with a token (--token-file, HLSMARK_TOKEN or --token)")
		return false
	}
	return true
}

// decodeSettings reads a JSON object of a stream's settings: each value a
// string, a number or a boolean, as a config file's stream entry has them.
func decodeSettings(body []byte) ([]Setting, error) {
	if !json.Valid(body) {
		return nil, errors.New("body: not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("body: want a JSON object of the stream's settings")
	}
	var out []Setting
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		key := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("%s: given twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		var text string
		switch v := v.(type) {
		case string:
			text = v
		case float64, bool:
			text = string(raw)
		default:
			return nil, fmt.Errorf("%s: want a string, a number or a boolean", key)
		}
		out = append(out, Setting{Key: key, Value: text})
	}
	return out, nil // the closing brace, and nothing after it: json.Valid
}
