package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// seeded is how the stored markers were made.
type seeded struct {
	Markers int     `json:"markers"`
	Seconds float64 `json:"seconds"`
	// acked are the seeded markers, looked up again after the attack.
	acked []live.Marker
}

// seedWindow is the seeding server's DVR window: short, so that its
// playlist holds few markers while they are posted, and is free of them
// soon after.
const seedWindow = 4 * time.Second

// seedWorkers post the seeded markers, each one after the other's answer.
const seedWorkers = 8

// seed stores n markers in data through the API of a server started with
// the post limits raised and a short window, waits until its playlist no
// longer holds any of them, and stops it.
func seed(bin, data, work string, n int, args []string) (seeded, error) {
	out := seeded{Markers: n}
	// The flags given for both servers come first, so that these win.
	seedArgs := append(append([]string{}, args...),
		"--window", seedWindow.String(),
		"--post-rate", "1000000", "--post-burst", "1000000", "--stream-markers-per-minute", "100000000")
	// Publishing, its window has begun: a marker a second back is in it.
	s, err := startPublishing(bin, data, filepath.Join(work, "seed.log"), seedArgs)
	if err != nil {
		return out, err
	}
	defer s.Kill() // a no-op once stopped
	start := time.Now()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: seedWorkers}}
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				label := fmt.Sprintf("seed-%d", i)
				code, m, err := live.PostMarker(context.Background(), client, s.Base, stream, label, time.Now().Add(-time.Second))
				mu.Lock()
				if code == http.StatusCreated {
					out.acked = append(out.acked, live.Marker{ID: m.ID, Label: label})
				} else if firstErr == nil {
					firstErr = fmt.Errorf("seed marker %d: status %d: %v", i, code, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return out, firstErr
	}
	if err := waitNoSeedRanges(s.Base, 3*seedWindow+10*time.Second); err != nil {
		return out, err
	}
	out.Seconds = time.Since(start).Seconds()
	return out, s.Stop(10 * time.Second)
}

// waitNoSeedRanges waits until the playlist holds no EXT-X-DATERANGE of a
// seeded marker, so that the servers started on the folder begin with
// the markers stored and none of them in the window.
func waitNoSeedRanges(base string, timeout time.Duration) error {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, err := live.Fetch(context.Background(), c, base+"/streams/"+stream+"/index.m3u8")
		if err == nil && !strings.Contains(string(b), `X-LABEL="seed-`) {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("the seeded markers were still in the playlist after %s", timeout)
}

// copyDir copies the regular files under src to dst, keeping the tree.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: not a regular file", path)
		}
		return copyFile(path, to)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
