package metrics

import (
	"context"
	"net/http"
	"strconv"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
)

// unmatched is the route label of requests no route matched.
const unmatched = "unmatched"

type routeKey struct{}

// Instrument returns h, which must route with r, counting every request by
// route template and status code, and the bytes of every response. The
// template comes from r's match, so /streams/demo/7.ts counts as
// /streams/{stream}/{segment}: one series per route, whatever the paths.
func (m *Metrics) Instrument(r *mux.Router, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	// The router runs its middleware only for matched routes, with the
	// route in the request; it hands the template out through the slot
	// the outer handler put in the context.
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if slot, ok := req.Context().Value(routeKey{}).(*string); ok {
				if tpl, err := mux.CurrentRoute(req).GetPathTemplate(); err == nil {
					*slot = tpl
				}
			}
			next.ServeHTTP(w, req)
		})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		route := unmatched
		req = req.WithContext(context.WithValue(req.Context(), routeKey{}, &route))
		// httpsnoop keeps the writer's Flusher and Unwrap, which the event
		// stream needs.
		got := httpsnoop.CaptureMetrics(h, w, req)
		m.httpRequests.WithLabelValues(route, strconv.Itoa(got.Code)).Inc()
		m.httpBytes.WithLabelValues(route).Add(float64(got.Written))
	})
}
