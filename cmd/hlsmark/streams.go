package main

import (
	"slices"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/server"
)

// supervised is the server's streams, each run by its supervisor: the
// server sees the stream each one made last.
type supervised []*supervisedStream

// supervisedStream is one stream of the server: its supervisor, and what
// its configuration says of it.
type supervisedStream struct {
	*stream.Supervisor
	config streamConfig
}

// Stream returns the stream called name, once it has been made.
func (s supervised) Stream(name string) (*server.Stream, bool) {
	for _, sv := range s {
		if sv.Name() == name {
			v := serverView(sv)
			return v, v.Playlist != nil
		}
	}
	return nil, false
}

// All returns every stream, by name; one not made yet has only its name
// and state.
func (s supervised) All() []*server.Stream {
	out := make([]*server.Stream, 0, len(s))
	for _, sv := range s {
		out = append(out, serverView(sv))
	}
	slices.SortFunc(out, func(a, b *server.Stream) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// serverView is the stream sv made last, as the server serves it.
func serverView(sv *supervisedStream) *server.Stream {
	c := sv.config
	v := &server.Stream{Name: sv.Name(), State: sv.State, Input: c.describe(), Size: c.Size.String(), FPS: c.FPS}
	if cur := sv.Current(); cur != nil {
		v.Playlist, v.Markers, v.Cache, v.Stalled, v.Failed = cur.Playlist(), cur.Markers(), cur.Cache(), cur.Stalled, cur.Failed
		v.Counters = func() server.Counters { return server.Counters(cur.Counters()) }
	}
	return v
}
