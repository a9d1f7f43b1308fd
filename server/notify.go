package server

import (
	"encoding/json"

	"github.com/hlsmark/hlsmark/marker"
)

// MarkerJSON returns marker m of svc's stream as the API shows it, for
// those who tell of it elsewhere (webhooks, MQTT).
func MarkerJSON(svc *marker.Service, m marker.Marker) (json.RawMessage, error) {
	return json.Marshal(view(svc, m))
}

// StreamJSON returns st as GET /api/streams lists it, and its state.
func StreamJSON(st *Stream) (_ json.RawMessage, state string, _ error) {
	v := streamViewOf(st)
	b, err := json.Marshal(v)
	return b, v.State, err
}
