package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Marker is a marker as the API lists it, with the fields the bench
// programs check.
type Marker struct {
	ID    uint64 `json:"id"`
	Label string `json:"label"`
}

// PostMarker posts a marker labelled label at wall-clock time at. It
// returns the answer's status (0 when there was none: refused or cut
// connection) and, for 201, the marker as stored.
func PostMarker(ctx context.Context, c *http.Client, base, stream, label string, at time.Time) (int, Marker, error) {
	body := fmt.Sprintf(`{"label":%q,"time":%q}`, label, at.UTC().Format(time.RFC3339Nano))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/streams/"+stream+"/markers", strings.NewReader(body))
	if err != nil {
		return 0, Marker{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, Marker{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil { // cut off, as by a kill: the marker was not acknowledged
		return 0, Marker{}, err
	}
	var m Marker
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(b, &m); err != nil || m.ID == 0 {
			return resp.StatusCode, m, fmt.Errorf("201 without a marker: %q", b)
		}
	}
	return resp.StatusCode, m, nil
}

// Listing is what ListMarkers read.
type Listing struct {
	Markers []Marker
	Pages   int
	Bytes   int64
}

// ListMarkers reads a stream's whole marker list, limit markers a page,
// following each answer's next link until an answer has none. A polite
// reader waits out a 429 (its Retry-After, at least a second) and asks
// again; an impolite one, as an attacker, takes it as the answer.
func ListMarkers(ctx context.Context, c *http.Client, base, stream string, limit int, polite bool) (Listing, error) {
	var out Listing
	next := fmt.Sprintf("/api/streams/%s/markers?limit=%d", stream, limit)
	for next != "" {
		b, err := Fetch(ctx, c, base+next)
		var se *StatusError
		if polite && errors.As(err, &se) && se.Code == http.StatusTooManyRequests {
			select {
			case <-time.After(max(se.RetryAfter, time.Second)):
				continue
			case <-ctx.Done():
				return out, ctx.Err()
			}
		}
		if err != nil {
			return out, err
		}
		out.Pages++
		out.Bytes += int64(len(b))
		var page struct {
			Markers []Marker `json:"markers"`
			Next    string   `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return out, fmt.Errorf("%s: %w", next, err)
		}
		if page.Next != "" && !strings.HasPrefix(page.Next, "/api/") {
			return out, fmt.Errorf("%s: next %q is not a path of the API", next, page.Next)
		}
		out.Markers = append(out.Markers, page.Markers...)
		next = page.Next
	}
	return out, nil
}

// Missing returns the markers of want that are not in got with the same
// label.
func Missing(want []Marker, got []Marker) []Marker {
	have := make(map[uint64]string, len(got))
	for _, m := range got {
		have[m.ID] = m.Label
	}
	var out []Marker
	for _, m := range want {
		if l, ok := have[m.ID]; !ok || l != m.Label {
			out = append(out, m)
		}
	}
	return out
}
