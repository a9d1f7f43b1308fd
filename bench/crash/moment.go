package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A moment is when a round kills the server: a random delay after it
// published, or the instant a step of the segment path shows in the
// stream's folder.
type moment struct {
	Kind string
	// mask and match pick the folder event of a step; none for "random".
	mask  uint32
	match func(name string) bool
}

func isSegment(name string) bool {
	n, ok := strings.CutSuffix(name, ".ts")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// moments are the kinds of kill, taken in turn.
var moments = []moment{
	{Kind: "random"},
	// libav has written the segment's temporary file and closed it; the
	// fsync and the rename are next.
	{Kind: "segment written", mask: unix.IN_CLOSE_WRITE, match: func(n string) bool {
		return strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".ts.tmp")
	}},
	// The segment was renamed into place; the playlist does not list it yet.
	{Kind: "segment renamed", mask: unix.IN_MOVED_TO, match: isSegment},
	// The playlist was renamed into place; its state file is next.
	{Kind: "playlist renamed", mask: unix.IN_MOVED_TO, match: func(n string) bool { return n == "index.m3u8" }},
	{Kind: "state renamed", mask: unix.IN_MOVED_TO, match: func(n string) bool { return n == "state.json" }},
}

// watcher reads inotify events of one folder.
type watcher struct {
	f *os.File
}

// watch starts watching dir for the events in mask.
func watch(dir string, mask uint32) (*watcher, error) {
	// Non-blocking, so that os.File reads through the runtime's poller
	// and a read deadline works.
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("inotify: watch %s: %w", dir, err)
	}
	return &watcher{f: os.NewFile(uintptr(fd), "inotify")}, nil
}

func (w *watcher) Close() error { return w.f.Close() }

// wait returns the name of the first file whose event matches, or an
// error at deadline.
func (w *watcher) wait(match func(string) bool, deadline time.Time) (string, error) {
	if err := w.f.SetReadDeadline(deadline); err != nil {
		return "", err
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return "", fmt.Errorf("inotify: %w", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			// struct inotify_event: wd, mask, cookie, len, then len bytes
			// of NUL-padded name.
			size := int(binary.NativeEndian.Uint32(buf[off+12:]))
			start := off + unix.SizeofInotifyEvent
			if start+size > n {
				return "", errors.New("inotify: event cut short")
			}
			name := strings.TrimRight(string(buf[start:start+size]), "\x00")
			if match(name) {
				return name, nil
			}
			off = start + size
		}
	}
}

// randomDelay returns a delay uniform in [0, d).
func randomDelay(rng *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(rng.Int64N(int64(d)))
}
