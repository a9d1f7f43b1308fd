package main

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// edgeEvery is how often the live edge is sampled.
const edgeEvery = 250 * time.Millisecond

// edge is what sampling one server's live edge saw. Lag is the time a
// playlist answer arrived minus the end of its last segment
// (EXT-X-PROGRAM-DATE-TIME plus EXTINF): how far behind the present a
// player at the live edge is, before any buffer of its own.
type edge struct {
	Samples int `json:"samples"`
	// Failed counts playlist fetches that got no playlist in 5 s.
	Failed int     `json:"failed"`
	P50    float64 `json:"lag_p50_seconds"`
	P99    float64 `json:"lag_p99_seconds"`
	Max    float64 `json:"lag_max_seconds"`
	// TargetDuration is the largest EXT-X-TARGETDURATION seen, and
	// TargetChanged says it was not always the same.
	TargetDuration float64 `json:"target_duration_seconds"`
	TargetChanged  bool    `json:"target_duration_changed,omitempty"`
}

// sampleEdge fetches a server's playlist every edgeEvery until ctx ends.
func sampleEdge(ctx context.Context, base, stream string) edge {
	c := &http.Client{Timeout: 5 * time.Second}
	var out edge
	var lags []float64
	tick := time.NewTicker(edgeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			slices.Sort(lags)
			out.Samples = len(lags)
			if n := len(lags); n > 0 {
				out.P50, out.P99, out.Max = live.Quantile(lags, 0.5), live.Quantile(lags, 0.99), lags[n-1]
			}
			return out
		case <-tick.C:
		}
		b, err := live.Fetch(context.WithoutCancel(ctx), c, base+"/streams/"+stream+"/index.m3u8")
		arrived := time.Now()
		if err != nil {
			out.Failed++
			continue
		}
		pl, err := live.ParsePlaylist(b)
		last, ok := pl.Last()
		if err != nil || !ok {
			out.Failed++
			continue
		}
		td := pl.TargetDuration.Seconds()
		if out.TargetDuration != 0 && td != out.TargetDuration {
			out.TargetChanged = true
		}
		out.TargetDuration = max(out.TargetDuration, td)
		lags = append(lags, arrived.Sub(last.End()).Seconds())
	}
}
