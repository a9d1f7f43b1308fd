package muxer_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestFFmpegReadsLivePlaylist has ffmpeg's HLS demuxer, a client nobody
// here wrote, play the stream live: the stream folder is served over HTTP
// on loopback while the muxer writes it, listed by the real playlist, and
// ffmpeg copies it from the first segment to the end. The writer never
// runs more than a few segments ahead of ffmpeg, so ffmpeg reloads a
// playlist that grows, as it would from a live server. Reading segment
// after segment as one transport stream, it must log nothing at all at
// -v warning: no corrupt packet, no discontinuity.
func TestFFmpegReadsLivePlaylist(t *testing.T) {
	const (
		segments = 14 // at 1 s each
		ahead    = 3  // segments the writer may list beyond the last ffmpeg asked for
	)
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reqs := newRequestLog()
	srv := httptest.NewServer(reqs.record(http.FileServer(http.Dir(dir))))
	defer srv.Close()

	// The context only keeps a hung ffmpeg from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := ffmpegCopy(ctx, t, srv.URL+"/"+playlist.FileName)
	cmd.Stderr = &stderr
	var (
		started bool
		exited  = make(chan struct{})
		waitErr error
	)
	defer func() {
		if cancel(); started {
			<-exited
		}
	}()

	r := runMuxer(t, runConfig{dir: dir, frames: segments*30 + 15, publish: func(s media.Segment) error {
		if err := pl.Add(s); err != nil {
			return err
		}
		if s.Seq == 0 {
			if err := cmd.Start(); err != nil {
				return err
			}
			started = true
			go func() { waitErr = cmd.Wait(); close(exited) }()
		}
		if s.Seq >= ahead {
			select {
			case <-reqs.fetched(s.Seq - ahead):
			case <-exited:
			}
		}
		return nil
	}})
	if !started {
		t.Fatal("no segment was published: ffmpeg never started")
	}
	livePolls := reqs.playlistFetches()
	if err := pl.Close(); err != nil { // EXT-X-ENDLIST: ffmpeg reads to the end and stops
		t.Fatal(err)
	}
	<-exited
	if waitErr != nil {
		t.Fatalf("ffmpeg: %v\n%s", waitErr, stderr.String())
	}
	if len(r.segments) < segments {
		t.Fatalf("%d segments published, want %d", len(r.segments), segments)
	}
	if livePolls < 2 {
		t.Errorf("ffmpeg fetched the playlist %d times before it ended: it did not read it live", livePolls)
	}
	fetched := reqs.segmentsFetched()
	for _, s := range r.segments {
		if !fetched[s.Seq] {
			t.Errorf("ffmpeg never fetched %s", s.Name())
		}
	}
	checkSilent(t, stderr.Bytes())
}

// ffmpegCopy returns the command that has ffmpeg read the HLS playlist at
// url from its first segment, as a player would, and copy it to nowhere,
// logging warnings and errors only.
func ffmpegCopy(ctx context.Context, t *testing.T, url string) *exec.Cmd {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required (make setup-test installs it): %v", err)
	}
	return exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "warning", "-live_start_index", "0",
		"-i", url, "-c", "copy", "-f", "null", "-")
}

// checkSilent fails the test for every line ffmpeg logged. At -v warning
// every line is a warning or an error: counters that restart at a segment
// boundary show as "Packet corrupt" and "corrupt input packet".
func checkSilent(t *testing.T, stderr []byte) {
	t.Helper()
	for _, line := range strings.Split(string(stderr), "\n") {
		if line != "" {
			t.Errorf("ffmpeg: %s", line)
		}
	}
}

// requestLog records which segments and how often the playlist were
// fetched from a server, and lets a test wait for a segment's fetch.
type requestLog struct {
	mu        sync.Mutex
	segments  map[media.Seq]chan struct{} // closed once fetched
	playlists int
}

func newRequestLog() *requestLog {
	return &requestLog{segments: map[media.Seq]chan struct{}{}}
}

func (l *requestLog) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		l.mu.Lock()
		if seq, ok := media.ParseSegmentName(name); ok {
			ch := l.chanLocked(seq)
			select {
			case <-ch:
			default:
				close(ch)
			}
		} else if name == playlist.FileName {
			l.playlists++
		}
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) chanLocked(seq media.Seq) chan struct{} {
	ch, ok := l.segments[seq]
	if !ok {
		ch = make(chan struct{})
		l.segments[seq] = ch
	}
	return ch
}

// fetched returns a channel closed once segment seq has been asked for.
func (l *requestLog) fetched(seq media.Seq) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.chanLocked(seq)
}

func (l *requestLog) playlistFetches() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.playlists
}

func (l *requestLog) segmentsFetched() map[media.Seq]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[media.Seq]bool{}
	for seq, ch := range l.segments {
		select {
		case <-ch:
			out[seq] = true
		default:
		}
	}
	return out
}
