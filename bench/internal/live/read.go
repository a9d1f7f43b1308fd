package live

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grafov/m3u8"
)

// Fetch GETs url and returns its body; an answer other than 200 is an
// error.
func Fetch(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, &StatusError{URL: url, Code: resp.StatusCode, RetryAfter: time.Duration(retry) * time.Second}
	}
	return b, nil
}

// StatusError is an answer other than 200 to Fetch.
type StatusError struct {
	URL  string
	Code int
	// RetryAfter is the answer's Retry-After, or 0.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Code returns the status of the answer err reports, or 0 if err is no
// answer at all (refused, cut, timed out).
func Code(err error) int {
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Code
	}
	return 0
}

// Segment is one segment of a media playlist, as listed.
type Segment struct {
	Seq             uint64
	URI             string
	ProgramDateTime time.Time
	Duration        time.Duration
}

// End returns the wall-clock time at which the segment's media ends.
func (s Segment) End() time.Time { return s.ProgramDateTime.Add(s.Duration) }

// Playlist is a media playlist, as parsed by grafov/m3u8 (not by the code
// that wrote it).
type Playlist struct {
	TargetDuration time.Duration
	Segments       []Segment
}

// ParsePlaylist parses a live media playlist.
func ParsePlaylist(b []byte) (Playlist, error) {
	p, kind, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
	if err != nil {
		return Playlist{}, fmt.Errorf("playlist does not parse: %w", err)
	}
	if kind != m3u8.MEDIA {
		return Playlist{}, fmt.Errorf("playlist: not a media playlist")
	}
	mp := p.(*m3u8.MediaPlaylist)
	out := Playlist{TargetDuration: time.Duration(mp.TargetDuration * float64(time.Second))}
	for _, s := range mp.Segments {
		if s == nil {
			continue
		}
		out.Segments = append(out.Segments, Segment{
			Seq: s.SeqId, URI: s.URI, ProgramDateTime: s.ProgramDateTime,
			Duration: time.Duration(s.Duration * float64(time.Second)),
		})
	}
	return out, nil
}

// Last returns the playlist's last segment, if it lists any.
func (p Playlist) Last() (Segment, bool) {
	if len(p.Segments) == 0 {
		return Segment{}, false
	}
	return p.Segments[len(p.Segments)-1], true
}

// Metric returns the value of an unlabelled series in a Prometheus text
// exposition, or 0.
func Metric(text []byte, name string) float64 {
	return Series(text, name)[""]
}

// Series returns every sample of the metric name in a Prometheus text
// exposition, keyed by its label set as written ("" for none), e.g.
// `{limit="post_rate"}`.
func Series(text []byte, name string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		labels := ""
		if rest[0] == '{' {
			// The last brace: label values may hold braces, as route
			// templates do.
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			labels, rest = rest[:end+1], rest[end+1:]
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
			out[labels] = f
		}
	}
	return out
}
