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

// livePlayer returns the command of a player that reads the HLS playlist
// at url from its first segment to its end and then exits. ctx only keeps
// a hung player from hanging the test.
type livePlayer func(ctx context.Context, url string) *exec.Cmd

// playLive has a player, a client nobody here wrote, play a stream of
// segments 1 s segments live: the stream folder is served over HTTP on
// loopback while the muxer writes it, listed by the real playlist, and the
// player starts once the first segment is listed. The writer never runs
// more than a few segments ahead of the player, so the player reloads a
// playlist that grows, as it would from a live server; the playlist ends
// (EXT-X-ENDLIST) with the run. The test fails unless the player exits
// cleanly, having fetched the playlist while it grew and every segment.
// The segments are in format. playLive returns the run and the player's
// stderr.
func playLive(t *testing.T, format media.Format, segments int, player livePlayer) (run, []byte) {
	t.Helper()
	const ahead = 3 // segments the writer may list beyond the last the player asked for
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second, Format: format})
	if err != nil {
		t.Fatal(err)
	}
	reqs := newRequestLog(format)
	srv := httptest.NewServer(reqs.record(http.FileServer(http.Dir(dir))))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := player(ctx, srv.URL+"/"+playlist.FileName)
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

	r := runMuxer(t, runConfig{dir: dir, format: format, frames: segments*30 + 15, publish: func(s media.Segment) error {
		if err := pl.Add(s); err != nil {
			return err
		}
		if s.Seq == 0 {
			// The playlist file is written in the background: the
			// player must not ask for it before it exists.
			if err := pl.Flush(); err != nil {
				return err
			}
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
		t.Fatalf("no segment was published: %s never started", cmd.Path)
	}
	livePolls := reqs.playlistFetches()
	if err := pl.Close(); err != nil { // EXT-X-ENDLIST: the player reads to the end and stops
		t.Fatal(err)
	}
	<-exited
	if waitErr != nil {
		t.Fatalf("%s: %v\n%s", cmd.Path, waitErr, stderr.String())
	}
	if len(r.segments) < segments {
		t.Fatalf("%d segments published, want %d", len(r.segments), segments)
	}
	if livePolls < 2 {
		t.Errorf("%s fetched the playlist %d times before it ended: it did not read it live", cmd.Path, livePolls)
	}
	fetched := reqs.segmentsFetched()
	for _, s := range r.segments {
		if !fetched[s.Seq] {
			t.Errorf("%s never fetched %s", cmd.Path, s.Name())
		}
	}
	return r, stderr.Bytes()
}

// requestLog records which segments and how often the playlist were
// fetched from a server, and lets a test wait for a segment's fetch.
type requestLog struct {
	format    media.Format // of the segments
	mu        sync.Mutex
	segments  map[media.Seq]chan struct{} // closed once fetched
	playlists int
}

func newRequestLog(format media.Format) *requestLog {
	return &requestLog{format: format, segments: map[media.Seq]chan struct{}{}}
}

func (l *requestLog) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		l.mu.Lock()
		if seq, ok := l.format.ParseSegmentName(name); ok {
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
