package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// maxScan bounds the stored markers one filtered listing reads: past it,
// the answer holds what matched so far and its next link goes on from the
// last marker read.
const maxScan = 10 * maxLimit

// searchParams are the marker list's filters.
var searchParams = []string{"from", "to", "source", "label"}

// markerFilter reads the marker list's filters (see searchParams), and
// returns them as given too, for the next link. from and to are RFC 3339
// times or pts:N, N a TS timestamp (33 bits) taken, as a posted pts is, at
// its latest instance up to the present; with both given as pts:, to is
// taken at its first instance from from on.
func markerFilter(r *http.Request, svc *marker.Service) (marker.Filter, url.Values, error) {
	var f marker.Filter
	given := url.Values{}
	for _, name := range searchParams {
		raw, err := queryValues(r, name)
		switch {
		case err != nil:
			return f, nil, err
		case len(raw) > 1:
			return f, nil, errors.New(name + ": give it once")
		case len(raw) == 1:
			given.Set(name, raw[0])
		}
	}
	_, now := svc.Range()
	var err error
	if f.FromPTS, f.FromTime, err = bound("from", given, now); err != nil {
		return f, nil, err
	}
	if f.ToPTS, f.ToTime, err = bound("to", given, now); err != nil {
		return f, nil, err
	}
	ptsSpan(f.FromPTS, f.ToPTS)
	if f.FromTime != nil && f.ToTime != nil && f.FromTime.After(*f.ToTime) {
		return f, nil, errors.New("from: must not be after to")
	}
	if src, ok := given["source"]; ok {
		switch f.Source = marker.Source(src[0]); f.Source {
		case marker.FromDetector, marker.FromAPI:
		default:
			return f, nil, errors.New("source: must be detector or api, got " + quote(src[0]))
		}
	}
	if l, ok := given["label"]; ok {
		if l[0] == "" {
			return f, nil, errors.New("label: must not be empty")
		}
		f.LabelPrefix = l[0]
	}
	return f, given, nil
}

// ptsSpan takes to, when both bounds were given as pts:, at its first
// instance from from on: a window of two TS timestamps runs from from's
// instance to the next time the TS reads to, across the wrap if it comes
// between (to may then lie ahead of the present).
func ptsSpan(from, to *clock.Ticks) {
	if from != nil && to != nil {
		*to = *from + ((to.TS()-from.TS())%clock.Wrap+clock.Wrap)%clock.Wrap
	}
}

// bound parses the search bound name: an RFC 3339 time, or pts:N.
func bound(name string, given url.Values, now clock.Ticks) (*clock.Ticks, *time.Time, error) {
	raw, ok := given[name]
	if !ok {
		return nil, nil, nil
	}
	if n, ok := strings.CutPrefix(raw[0], "pts:"); ok {
		ts, err := strconv.ParseInt(n, 10, 64)
		if err != nil || ts < 0 || ts >= int64(clock.Wrap) {
			return nil, nil, errors.New(name + ": pts:N must give an MPEG-TS timestamp N from 0 to 2^33-1, got " + quote(raw[0]))
		}
		pts := clock.LatestAt(clock.Ticks(ts), now)
		return &pts, nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw[0])
	if err != nil {
		return nil, nil, errors.New(name + ": must be an RFC 3339 date-time like 2026-11-24T10:00:00.123Z, or pts:N, got " + quote(raw[0]))
	}
	return nil, &t, nil
}

// search returns up to limit markers with IDs above after that f selects,
// ascending, reading at most maxScan stored markers. last is the ID of the
// last marker read, and more says whether markers may follow it.
func search(ctx context.Context, svc *marker.Service, f marker.Filter, after marker.ID, limit int) (ms []marker.Marker, last marker.ID, more bool, err error) {
	if f.Zero() {
		ms, err = svc.Store().List(ctx, svc.Stream(), after, limit)
		if n := len(ms); n > 0 {
			last = ms[n-1].ID
		}
		return ms, last, len(ms) == limit, err
	}
	ms = []marker.Marker{}
	last = after
	for scanned := 0; scanned < maxScan; {
		batch, err := svc.Store().List(ctx, svc.Stream(), last, maxLimit)
		if err != nil || len(batch) == 0 {
			return ms, last, false, err
		}
		for _, m := range batch {
			scanned++
			last = m.ID
			if f.Match(m, svc.Timeline()) {
				ms = append(ms, m)
				if len(ms) == limit {
					return ms, last, true, nil
				}
			}
		}
		if len(batch) < maxLimit {
			return ms, last, false, nil
		}
	}
	return ms, last, true, nil
}
