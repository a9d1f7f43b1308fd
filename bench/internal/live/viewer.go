package live

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Viewers counts what simulated viewers did, from many goroutines: each
// runs View. Every failure while its context lasts is an error. Late
// counts the segments View took longer to fetch than the playlist's
// target duration: a player fetching them would have stalled.
type Viewers struct {
	Requests, Segments, Events, Errors, Late atomic.Int64

	mu    sync.Mutex
	first error
}

// FirstError returns the first failure a viewer met, or nil.
func (v *Viewers) FirstError() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.first
}

func (v *Viewers) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // cut by the end of the run, not by the server
	}
	v.Errors.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.first == nil {
		v.first = err
	}
}

// View behaves like a player of stream at base until ctx ends, as the
// repository's load test (cmd/hlsmark/load_test.go) does: it polls the
// playlist every half target duration, fetches every segment it has not
// seen (joining at the live edge, the last three listed, as hls.js does),
// reads the marker list every fourth poll, and holds the stream's event
// stream open, counting its events (and its late segments: Late).
func (v *Viewers) View(ctx context.Context, c *http.Client, base, stream string) {
	var wg sync.WaitGroup
	defer wg.Wait() // the event stream ends with ctx
	wg.Go(func() { v.listen(ctx, c, base+"/api/streams/"+stream+"/markers/events") })
	get := func(url string) []byte {
		v.Requests.Add(1)
		b, err := Fetch(ctx, c, url)
		if err != nil {
			v.fail(ctx, err)
		}
		return b
	}
	seen := map[string]bool{}
	first := true
	for i := 0; ctx.Err() == nil; i++ {
		poll := 500 * time.Millisecond
		if b := get(base + "/streams/" + stream + "/index.m3u8"); b != nil {
			pl, err := ParsePlaylist(b)
			if err != nil {
				v.fail(ctx, fmt.Errorf("%s: %w", stream, err))
			}
			if pl.TargetDuration > 0 {
				poll = pl.TargetDuration / 2
			}
			segs := pl.Segments
			if first && len(segs) > 3 {
				segs = segs[len(segs)-3:]
			}
			first = first && len(segs) == 0
			for _, s := range segs {
				if !seen[s.URI] && ctx.Err() == nil {
					seen[s.URI] = true
					asked := time.Now()
					if get(base+"/streams/"+stream+"/"+s.URI) != nil {
						v.Segments.Add(1)
						if pl.TargetDuration > 0 && time.Since(asked) > pl.TargetDuration {
							v.Late.Add(1)
						}
					}
				}
			}
		}
		if i%4 == 0 {
			get(base + "/api/streams/" + stream + "/markers?limit=100")
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
}

// listen holds the event stream at url open until ctx ends, counting the
// events it sends.
func (v *Viewers) listen(ctx context.Context, c *http.Client, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		v.fail(ctx, err)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		v.fail(ctx, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		v.fail(ctx, &StatusError{URL: url, Code: resp.StatusCode})
		return
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			v.Events.Add(1)
		}
	}
	if err := sc.Err(); err != nil {
		v.fail(ctx, fmt.Errorf("%s: %w", url, err))
	}
}
