// Package notify tells the world outside of marker changes as they happen:
// package webhook POSTs them to URLs through a durable outbox, package mqtt
// publishes them to a broker. Both carry the same Event.
package notify

import (
	"encoding/json"

	"github.com/hlsmark/hlsmark/marker"
)

// Event is one marker change as a webhook's body and an MQTT message carry
// it: {"type":"marker.created","stream":"demo","marker":{...}}, the marker
// as the API shows it.
type Event struct {
	Type   marker.Kind     `json:"type"`
	Stream string          `json:"stream"`
	Marker json.RawMessage `json:"marker"`
	// Rev is the store's revision of the change (not sent): the webhook
	// outbox records the last one it took for each stream.
	Rev marker.Rev `json:"-"`
}

// Body returns the event's JSON.
func (e Event) Body() ([]byte, error) { return json.Marshal(e) }
