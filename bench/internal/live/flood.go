package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Flood posts markers to one stream from many clients at once, as a
// client that ignores 429s would: each of Clients goroutines posts, waits
// for the answer, pauses about Interval (from half to one and a half
// times it, at random, so the clients do not move in step) and posts
// again, until its context ends. Every post has a label of its own, so an
// acknowledged marker can be told from any other with its id.
type Flood struct {
	Base, Stream string
	Clients      int
	Interval     time.Duration
	// Label prefixes every label: Label-client-n.
	Label string
	// Client sends the posts.
	Client *http.Client
}

// FloodResult is what a flood got back.
type FloodResult struct {
	// Codes counts the answers by status (NoAnswer: none).
	Codes *Tally
	// Acked are the markers the server answered 201 for.
	Acked []Marker
}

// Run floods until ctx ends, and returns what came back.
func (f Flood) Run(ctx context.Context) FloodResult {
	res := FloodResult{Codes: &Tally{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range f.Clients {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				label := fmt.Sprintf("%s-%d-%d", f.Label, c, n)
				// A second back: the server's present may be a little
				// behind this clock's, and a marker must not be in its future.
				code, m, _ := PostMarker(ctx, f.Client, f.Base, f.Stream, label, time.Now().Add(-time.Second))
				if ctx.Err() != nil && code == 0 {
					return // cut by the end of the flood, not by the server
				}
				res.Codes.Code(code)
				if code == http.StatusCreated {
					mu.Lock()
					res.Acked = append(res.Acked, Marker{ID: m.ID, Label: label})
					mu.Unlock()
				}
				pause := time.Duration(float64(f.Interval) * (0.5 + rand.Float64()))
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		})
	}
	wg.Wait()
	return res
}
