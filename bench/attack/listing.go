package main

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// listStats is what the listers read.
type listStats struct {
	// Complete counts lists read to the end (an answer without next).
	Complete int64 `json:"complete"`
	Pages    int64 `json:"pages"`
	Bytes    int64 `json:"bytes"`
}

// listAll runs n listers until ctx ends, each reading the whole marker
// list a thousand markers a page, again and again.
func listAll(ctx context.Context, client *http.Client, base, stream string, n int, codes *live.Tally) listStats {
	var complete, pages, bytes atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				l, err := live.ListMarkers(ctx, client, base, stream, 1000, false)
				pages.Add(int64(l.Pages))
				bytes.Add(l.Bytes)
				codes.Add("200", int64(l.Pages))
				switch {
				case err == nil:
					complete.Add(1)
				case ctx.Err() == nil:
					codes.Code(live.Code(err))
				}
			}
		})
	}
	wg.Wait()
	return listStats{Complete: complete.Load(), Pages: pages.Load(), Bytes: bytes.Load()}
}
