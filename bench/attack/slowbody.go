package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// slowBodyBytes is the Content-Length a slow client announces.
const slowBodyBytes = 60000

// slowStats is what the slow clients saw.
type slowStats struct {
	Connections int64 `json:"connections"`
	// MostOpen is the most slow connections open at once.
	MostOpen int64 `json:"most_open"`
	// LongestSeconds is the longest a slow connection stayed open
	// before the server answered or closed it.
	LongestSeconds float64 `json:"longest_seconds"`
	// Unanswered counts connections still waiting when the attack ended.
	Unanswered int64 `json:"unanswered_at_end"`
}

// slowAll runs n slow clients until ctx ends: each opens a connection,
// sends a marker POST's head announcing slowBodyBytes of body, then a byte
// every interval until the server answers or closes, and reconnects an
// interval later. They start spread over the first interval.
func slowAll(ctx context.Context, addr, stream string, n int, interval time.Duration, codes *live.Tally) slowStats {
	var conns, open, most, longest, unanswered atomic.Int64
	head := fmt.Sprintf("POST /api/streams/%s/markers HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		stream, addr, slowBodyBytes)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if !pause(ctx, interval*time.Duration(i)/time.Duration(n)) {
				return
			}
			for {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					codes.Code(0)
				} else {
					conns.Add(1)
					storeMax(&most, open.Add(1))
					start := time.Now()
					code, answered := slowRequest(ctx, c, head, interval)
					held := time.Since(start)
					open.Add(-1)
					storeMax(&longest, int64(held))
					if answered {
						codes.Code(code)
					} else {
						unanswered.Add(1)
					}
				}
				if !pause(ctx, interval) {
					return
				}
			}
		})
	}
	wg.Wait()
	return slowStats{Connections: conns.Load(), MostOpen: most.Load(),
		LongestSeconds: time.Duration(longest.Load()).Seconds(), Unanswered: unanswered.Load()}
}

// slowRequest sends head, then a byte of body every interval, until the
// server answers (its status, or 0 when it closed without one) or ctx
// ends (answered false). It closes c.
func slowRequest(ctx context.Context, c net.Conn, head string, interval time.Duration) (code int, answered bool) {
	defer c.Close()
	answer := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	defer func() {
		if !answered {
			c.Close()
			<-answer
		}
	}()
	if _, err := c.Write([]byte(head)); err != nil {
		return 0, true
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for sent := 0; ; sent++ {
		select {
		case code := <-answer:
			return code, true
		case <-ctx.Done():
			return 0, false
		case <-tick.C:
			if sent < slowBodyBytes {
				_, _ = c.Write([]byte{' '}) // a failed write shows as the answer's end
			}
		}
	}
}

// pause waits d, and reports false if ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// storeMax sets a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for old := a.Load(); v > old && !a.CompareAndSwap(old, v); old = a.Load() {
	}
}
