//go:build cgo

package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// listAll follows a listing's next links from path to its end and
// returns the IDs, in order.
func listAll(t *testing.T, s *markerServer, path string) []marker.ID {
	t.Helper()
	var ids []marker.ID
	for path != "" {
		var page struct {
			Markers []markerView
			Next    string
		}
		if code := getJSON(t, s.URL+path, &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		for _, m := range page.Markers {
			ids = append(ids, m.ID)
		}
		path = page.Next
	}
	return ids
}

// TestSearchMarkers posts markers with labels of its own across the
// window and searches them by PTS window, time window, source and label
// prefix, combined and paged: each answer holds exactly the markers the
// test works out from what it posted and from the unfiltered list.
func TestSearchMarkers(t *testing.T) {
	s := newMarkerServer(t, "")
	segs := s.run.Playlist.Segments()
	first, end := int64(segs[0].FirstPTS), int64(segs[len(segs)-1].End())
	labels := []string{"goal 1", "foul", "goal 2", "goalkeeper", "Goal 3", "foul 2"}
	var posted []markerView
	for i, l := range labels {
		posted = append(posted, s.postAt(t, l, first+int64(i+1)*(end-first)/int64(len(labels)+2), ""))
	}
	var all struct{ Markers []markerView }
	getJSON(t, s.URL+"/api/streams/demo/markers?limit=1000", &all)
	if len(all.Markers) < len(posted)+2 {
		t.Fatalf("%d markers listed; want the %d posted and at least 2 from the detector", len(all.Markers), len(posted))
	}
	isPosted := map[marker.ID]bool{}
	for _, p := range posted {
		isPosted[p.ID] = true
	}
	where := func(keep func(m markerView) bool) []marker.ID {
		var ids []marker.ID
		for _, m := range all.Markers {
			if keep(m) {
				ids = append(ids, m.ID)
			}
		}
		return ids
	}
	parse := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	lo, hi := posted[1], posted[3]
	loT, hiT := parse(lo.ProgramDateTime), parse(hi.ProgramDateTime)
	for _, c := range []struct {
		name, query string
		want        []marker.ID
	}{
		{"source api", "source=api", where(func(m markerView) bool { return isPosted[m.ID] })},
		{"source detector", "source=detector", where(func(m markerView) bool { return !isPosted[m.ID] })},
		{"label prefix", "label=goal", []marker.ID{posted[0].ID, posted[2].ID, posted[3].ID}},
		{"whole label", "label=" + url.QueryEscape("goal 1"), []marker.ID{posted[0].ID}},
		{"pts window", "from=pts:" + strconv.FormatInt(lo.PTS, 10) + "&to=pts:" + strconv.FormatInt(hi.PTS, 10),
			where(func(m markerView) bool { return m.PTS >= lo.PTS && m.PTS <= hi.PTS })},
		{"pts window a tick inside", "from=pts:" + strconv.FormatInt(lo.PTS+1, 10) + "&to=pts:" + strconv.FormatInt(hi.PTS-1, 10),
			where(func(m markerView) bool { return m.PTS > lo.PTS && m.PTS < hi.PTS })},
		{"time window", "from=" + url.QueryEscape(lo.ProgramDateTime) + "&to=" + url.QueryEscape(hi.ProgramDateTime),
			where(func(m markerView) bool { t := parse(m.ProgramDateTime); return !t.Before(loT) && !t.After(hiT) })},
		{"from only", "from=" + url.QueryEscape(hi.ProgramDateTime),
			where(func(m markerView) bool { return !parse(m.ProgramDateTime).Before(hiT) })},
		{"to only, as pts", "to=pts:" + strconv.FormatInt(lo.PTS, 10), where(func(m markerView) bool { return m.PTS <= lo.PTS })},
		{"combined", "source=api&label=foul&from=pts:" + strconv.FormatInt(lo.PTS, 10), []marker.ID{posted[1].ID, posted[5].ID}},
		{"nothing", "label=nobody", nil},
	} {
		for _, limit := range []string{"", "&limit=1"} {
			got := listAll(t, s, "/api/streams/demo/markers?"+c.query+limit)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s (%s%s): %v, want %v", c.name, c.query, limit, got, c.want)
			}
		}
	}
	if len(where(func(m markerView) bool { return m.PTS > lo.PTS && m.PTS < hi.PTS && !isPosted[m.ID] })) == 0 {
		t.Errorf("no detector marker between %d and %d: the windows do not mix sources", lo.PTS, hi.PTS)
	}
}

// TestSearchMarkersRejectsBadValues requires a 400 naming the parameter
// for every malformed filter.
func TestSearchMarkersRejectsBadValues(t *testing.T) {
	s := newMarkerServer(t, "")
	for _, c := range []struct{ query, param string }{
		{"from=yesterday", "from"},
		{"to=2026-11-24", "to"},
		{"from=pts:-1", "from"},
		{"from=pts:x", "from"},
		{"to=pts:8589934592", "to"},
		{"from=pts:", "from"},
		{"from=pts:1&from=pts:2", "from"},
		{"from=2026-11-24T10:00:05Z&to=2026-11-24T10:00:01Z", "from"},
		{"source=camera", "source"},
		{"source=", "source"},
		{"label=", "label"},
		{"label=a&label=b", "label"},
		{"label=%zz", "label"},
		{"source=api&after=x", "after"},
	} {
		resp, body := s.send(t, http.MethodGet, "/api/streams/demo/markers?"+c.query, "", "")
		checkNamed(t, c.query, resp, body, http.StatusBadRequest, c.param)
		if strings.Contains(string(body), `"markers"`) {
			t.Errorf("%s: answered markers: %s", c.query, body)
		}
	}
}

// TestSearchAcrossTheWrap searches, just after the 33-bit wrap, a pts:
// window from a TS timestamp before the wrap to one after it (and after
// the present): it holds the markers from the first on the stream's
// unwrapped timeline (their time field), as a client reading TS
// timestamps means it.
func TestSearchAcrossTheWrap(t *testing.T) {
	s := newMarkerServerFrom(t, "", pipelinetest.Config{
		Start: clock.Wrap - clock.Hz, Frames: 40, Seed: 2, EventEvery: 1200 * time.Millisecond, EventDuration: 100 * time.Millisecond,
	})
	before := s.postAt(t, "before", int64((clock.Wrap - clock.Hz/2).TS()), "")
	after := s.postAt(t, "after", int64((clock.Wrap + clock.Hz/4).TS()), "")
	if before.PTS <= after.PTS {
		t.Fatalf("pts %d and %d: the markers do not lie across the wrap", before.PTS, after.PTS)
	}
	var all struct{ Markers []markerView }
	getJSON(t, s.URL+"/api/streams/demo/markers?limit=1000", &all)
	var want []marker.ID
	for _, m := range all.Markers {
		if m.Time >= before.Time {
			want = append(want, m.ID)
		}
	}
	if len(want) < 3 {
		t.Fatalf("only markers %v from %v s: no detector marker after the wrap", want, before.Time)
	}
	to := (clock.Wrap + clock.Hz/2).TS()
	q := "from=pts:" + strconv.FormatInt(before.PTS, 10) + "&to=pts:" + strconv.FormatInt(int64(to), 10)
	if got := listAll(t, s, "/api/streams/demo/markers?"+q); !slices.Equal(got, want) {
		t.Errorf("%s: %v, want %v", q, got, want)
	}
}
