package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/hlsmark/hlsmark/docs"
)

// TestOpenAPICoversEveryRoute walks the router and requires every API and
// HLS route, with each of its methods, to be in docs/openapi.json, and the
// document to list no route the server lacks.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.json: %v", err)
	}
	s := New(Config{})
	served := map[string][]string{}
	err := s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil || !(strings.HasPrefix(tpl, "/api/") || strings.HasPrefix(tpl, "/streams/{stream}/") || tpl == "/healthz" || tpl == "/readyz") {
			return nil
		}
		methods, _ := route.GetMethods()
		for _, m := range methods {
			if m != http.MethodHead {
				served[tpl] = append(served[tpl], strings.ToLower(m))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(served) < 8 {
		t.Fatalf("walked only %d routes: %v", len(served), served)
	}
	param := regexp.MustCompile(`\{(\w+)(:[^}]*)?\}`)
	for tpl, methods := range served {
		path := param.ReplaceAllString(tpl, "{$1}")
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s is not in docs/openapi.json", path)
			continue
		}
		for _, m := range methods {
			if _, ok := ops[m]; !ok {
				t.Errorf("%s %s is not in docs/openapi.json", strings.ToUpper(m), path)
			}
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			found := false
			for tpl, methods := range served {
				if param.ReplaceAllString(tpl, "{$1}") == path && slices.Contains(methods, m) {
					found = true
				}
			}
			if !found {
				t.Errorf("docs/openapi.json lists %s %s, which the server does not serve", strings.ToUpper(m), path)
			}
		}
	}
}
