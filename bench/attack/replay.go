package main

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// A replayer reads one event stream for at most replayFor, or until it
// is reset, and reconnects replayPause later.
const (
	replayFor   = 5 * time.Second
	replayPause = time.Second
)

// replayStats is what the replaying event streams read.
type replayStats struct {
	Connections int64 `json:"connections"`
	Bytes       int64 `json:"bytes"`
	Events      int64 `json:"events"`
	Resets      int64 `json:"resets"`
}

// replayAll runs n replayers until ctx ends.
func replayAll(ctx context.Context, base, stream string, n int, codes *live.Tally) replayStats {
	var st struct{ conns, bytes, events, resets atomic.Int64 }
	// No client timeout: an event stream's body has no end.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				conn, cancel := context.WithTimeout(ctx, replayFor)
				req, _ := http.NewRequestWithContext(conn, http.MethodGet, base+"/api/streams/"+stream+"/markers/events", nil)
				req.Header.Set("Last-Event-ID", "0")
				resp, err := client.Do(req)
				switch {
				case err != nil && ctx.Err() != nil:
				case err != nil:
					codes.Code(0)
				case resp.StatusCode != http.StatusOK:
					codes.Code(resp.StatusCode)
					resp.Body.Close()
				default:
					codes.Code(resp.StatusCode)
					st.conns.Add(1)
					r := bufio.NewReader(resp.Body)
					for {
						line, err := r.ReadString('\n')
						st.bytes.Add(int64(len(line)))
						if strings.HasPrefix(line, "event: reset") {
							st.resets.Add(1)
							break
						}
						if strings.HasPrefix(line, "event: ") {
							st.events.Add(1)
						}
						if err != nil {
							if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && conn.Err() == nil {
								codes.Add("cut", 1) // ended by the server
							}
							break
						}
					}
					resp.Body.Close()
				}
				cancel()
				select {
				case <-ctx.Done():
				case <-time.After(replayPause):
				}
			}
		})
	}
	wg.Wait()
	return replayStats{Connections: st.conns.Load(), Bytes: st.bytes.Load(), Events: st.events.Load(), Resets: st.resets.Load()}
}
