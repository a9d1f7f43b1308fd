package metrics

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
)

// unmatched is the route label of requests no route matched.
const unmatched = "unmatched"

// Instrument returns h, which must route with r, counting every request by
// route template and status code, and the bytes of every response. The
// template comes from r's match, so /streams/demo/7.ts counts as
// /streams/{stream}/{segment}: one series per route, whatever the paths.
func (m *Metrics) Instrument(r *mux.Router, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	// The router runs its middleware only for matched routes, with the
	// route in the request; it notes the template in the recorder the
	// outer handler passed down.
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if rec, ok := w.(*recorder); ok {
				if tpl, err := mux.CurrentRoute(req).GetPathTemplate(); err == nil {
					rec.route = tpl
				}
			}
			next.ServeHTTP(w, req)
		})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &recorder{ResponseWriter: w, route: unmatched}
		h.ServeHTTP(rec, req)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		m.httpRequests.WithLabelValues(rec.route, strconv.Itoa(rec.code)).Inc()
		m.httpBytes.WithLabelValues(rec.route).Add(float64(rec.written))
	})
}

// recorder notes a response's route, status code and body bytes. It is
// one allocation per request, on the path of every segment a viewer
// fetches. Unwrap lets http.ResponseController reach the connection (event
// streams flush through it), and ReadFrom keeps the connection's own
// (sendfile for a file).
type recorder struct {
	http.ResponseWriter
	route   string
	code    int
	written int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.written += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := io.Copy(r.ResponseWriter, src)
	r.written += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
