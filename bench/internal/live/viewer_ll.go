package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
)

var (
	hintTag = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(\d+)\.(\d+)\.m4s"`)
	partTag = regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`)
)

// ViewLL behaves like a Low-Latency HLS player of stream at base until ctx
// ends (RFC 8216bis, section 6.2.5): it asks for the part the playlist
// hints at (answered as it is written), then reloads the playlist blocking
// on that part (_HLS_msn, _HLS_part), fetches the listed parts it has not
// had, and so on. It reads the marker list every twentieth reload and
// holds the stream's event stream open, as View does. Segments counts the
// parts fetched. A hinted part that never comes (its segment ended before
// it) is not an error: the next reload lists the next segment's first
// part; every other failure is.
func (v *Viewers) ViewLL(ctx context.Context, c *http.Client, base, stream string) {
	var wg sync.WaitGroup
	defer wg.Wait() // the event stream ends with ctx
	wg.Go(func() { v.listen(ctx, c, base+"/api/streams/"+stream+"/markers/events") })
	dir := base + "/streams/" + stream + "/"
	get := func(url string) ([]byte, error) {
		v.Requests.Add(1)
		return Fetch(ctx, c, url)
	}
	had := map[string]bool{}
	query := ""
	for i := 0; ctx.Err() == nil; i++ {
		b, err := get(dir + "index.m3u8" + query)
		if err != nil {
			v.fail(ctx, fmt.Errorf("%s: playlist%s: %w", stream, query, err))
			return
		}
		text := string(b)
		m := hintTag.FindStringSubmatch(text)
		if m == nil {
			v.fail(ctx, fmt.Errorf("%s: playlist%s has no preload hint", stream, query))
			return
		}
		for _, p := range partTag.FindAllStringSubmatch(text, -1) {
			if len(had) == 0 {
				break // joining: start at the hint, as a player at the live edge
			}
			if !had[p[1]] {
				had[p[1]] = true
				if _, err := get(dir + p[1]); err != nil {
					v.fail(ctx, fmt.Errorf("%s: listed part %s: %w", stream, p[1], err))
				} else {
					v.Segments.Add(1)
				}
			}
		}
		hint := m[1] + "." + m[2] + ".m4s"
		if !had[hint] {
			had[hint] = true
			_, err := get(dir + hint)
			switch {
			case err == nil:
				v.Segments.Add(1)
			case Code(err) == http.StatusNotFound, errors.Is(err, io.ErrUnexpectedEOF):
				// 404, or the chunked answer cut short: the part
				// will not come, its segment ended first.
				delete(had, hint)
			default:
				v.fail(ctx, fmt.Errorf("%s: hinted part %s: %w", stream, hint, err))
			}
		}
		if len(had) > 1000 {
			clear(had) // a player keeps only what it may need again
			had[hint] = true
		}
		query = "?_HLS_msn=" + m[1] + "&_HLS_part=" + m[2]
		if i%20 == 0 {
			if _, err := get(base + "/api/streams/" + stream + "/markers?limit=100"); err != nil {
				v.fail(ctx, err)
			}
		}
	}
}
