package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hlsmark/hlsmark/web"
)

// routeWeb adds the embedded player: the page at / (the first stream, or
// the one ?stream= names) and at /streams/{stream} (that stream), the
// overview of every stream at /overview, and their files under /static/.
func (s *Server) routeWeb(r *mux.Router) {
	if !web.HasHLSJS() {
		s.cfg.Logger.Warn("web: hls.js is not embedded; the player works only with native HLS (run make web before the build)")
	}
	page := web.Page()
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle("/", page).Methods(get...)
	r.Handle("/overview", web.Overview()).Methods(get...)
	r.HandleFunc("/streams/{stream}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.stream(w, r); ok {
			page.ServeHTTP(w, r)
		}
	}).Methods(get...)
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", web.Static())).Methods(get...)
}
