package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/server"
)

// casesCheckMarker are markers a Go program may add (server/live), each
// with the field an error must name, or none.
var casesCheckMarker = []struct {
	name  string
	m     marker.Marker
	field string // "" for a marker taken
}{
	{"plain", marker.Marker{Label: "  goal ", Duration: clock.FromDuration(2 * time.Second), Data: json.RawMessage(`{"x": 1}`)}, ""},
	{"blank label", marker.Marker{Label: " \t"}, "label"},
	{"control in label", marker.Marker{Label: "a\nb"}, "label"},
	{"negative duration", marker.Marker{Label: "a", Duration: -1}, "duration"},
	{"duration past a day", marker.Marker{Label: "a", Duration: clock.FromDuration(25 * time.Hour)}, "duration"},
	{"data not JSON", marker.Marker{Label: "a", Data: json.RawMessage(`{"x": `)}, "data"},
	{"data not an object", marker.Marker{Label: "a", Data: json.RawMessage(`[1]`)}, "data"},
	{"data too deep", marker.Marker{Label: "a", Data: json.RawMessage(strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40))}, "data"},
}

// TestCheckMarker checks a Go program's markers as a POST body's are
// checked. Checked to fail by dropping CheckMarker's json.Valid (the
// cut-short data is then taken).
func TestCheckMarker(t *testing.T) {
	for _, c := range casesCheckMarker {
		t.Run(c.name, func(t *testing.T) {
			m, err := server.CheckMarker(c.m, server.Limits{})
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.field == "" && m.Label != strings.TrimSpace(c.m.Label):
				t.Errorf("label %q, want it trimmed", m.Label)
			case c.field != "" && (err == nil || !strings.HasPrefix(err.Error(), c.field+":")):
				t.Errorf("%v, want an error naming %s", err, c.field)
			}
		})
	}
}
