package web_test

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// listedRows is how many markers the page keeps beside the video, at most,
// once they left the window: the newest ones.
const listedRows = 500

// storeState is what the page's marker store holds.
type storeState struct {
	Size  int  `json:"size"`
	Drawn int  `json:"drawn"` // markers not yet gone from the window
	HasID bool `json:"hasId"` // holds the marker asked about
	Rows  int  `json:"rows"`
	// WindowStart is the program date time of the first fragment the
	// player lists, in ms since the epoch.
	WindowStart int64 `json:"windowStart"`
}

func storeJS(id int) string {
	return fmt.Sprintf(`(() => {
  const { store, player } = window.hlsmark;
  return {
    size: store.size,
    drawn: store.all().filter((m) => player.reach(m) !== 'gone').length,
    hasId: !!store.get(%d),
    rows: document.querySelectorAll('.marker-list > li').length,
    windowStart: player.details().fragments[0].programDateTime,
  };
})()`, id)
}

// TestPlayerKeepsMarkersBounded posts more markers than the page lists
// into a stream with a half-minute window. While they are in the window
// the page keeps them all (their ticks are drawn); once they left it, it
// keeps only the newest it lists, and forgets the oldest.
func TestPlayerKeepsMarkersBounded(t *testing.T) {
	const posted = listedRows + 100
	// A window longer than the posting takes (2 to 12 s on a busy
	// machine), so that the oldest posted marker is still in it when the
	// newest comes. The post limits are raised: this test posts from one
	// address far faster than the defaults let a client.
	srv := startServer(t, "--size", "320x180", "--segment", "1s", "--window", "30s", "--grace", "40s",
		"--post-rate", "100000", "--post-burst", "100000", "--stream-markers-per-minute", "100000")
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	waitFor(t, b, "playback", 60*time.Second, pageStateJS, func(p pageState) bool {
		return !p.Loading && p.Ready >= 2 && !p.Paused
	})

	start := time.Now()
	first := postMarkers(t, srv, posted)
	t.Logf("posted %d markers in %s", posted, time.Since(start))
	s := waitFor(t, b, "every posted marker in the page", 60*time.Second, storeJS(first), func(s storeState) bool {
		return s.Size >= posted || !s.HasID
	})
	// The first marker was posted at start, less 100 ms.
	if stillIn := time.UnixMilli(s.WindowStart).Before(start.Add(-100 * time.Millisecond)); !s.HasID && stillIn {
		t.Fatalf("the page dropped marker %d while it was in the window: %+v", first, s)
	} else if !s.HasID {
		t.Fatalf("posting took longer than the window: the oldest marker left it before the newest came (%+v)", s)
	}
	s = waitFor(t, b, "the oldest posted marker forgotten once it left the window", 60*time.Second, storeJS(first),
		func(s storeState) bool { return !s.HasID })
	t.Logf("after the window moved on: %+v", s)
	if s.Size > listedRows+s.Drawn {
		t.Errorf("the page keeps %d markers: more than the %d it lists plus the %d still in the window", s.Size, listedRows, s.Drawn)
	}
	if s.Rows > listedRows {
		t.Errorf("the marker list has %d rows, want at most %d", s.Rows, listedRows)
	}
}

// postMarkers posts n markers through the API, a few at a time, and
// returns the lowest id: the oldest marker.
func postMarkers(t *testing.T, srv *server, n int) int {
	t.Helper()
	const workers = 8
	var (
		mu    sync.Mutex
		first = math.MaxInt
		errs  []error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id, err := tryPostMarker(srv, fmt.Sprintf("posted %d", i))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					first = min(first, id)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d posts failed; the first: %v", len(errs), n, errs[0])
	}
	return first
}
