package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker/postgres/pgtest"
)

// testLease is --lease in the failover test: short, so the test is.
const testLease = 2 * time.Second

// TestLeaseFailover runs two `hlsmark serve` for the same stream, sharing
// a real PostgreSQL and a real SeaweedFS: the second waits in standby
// while the first owns the stream, writing nothing; after kill -9 of the
// first, it takes the stream over, numbering on past every segment the
// bucket holds, its first segment marked EXT-X-DISCONTINUITY, and serves
// every marker the first acknowledged.
func TestLeaseFailover(t *testing.T) {
	db := pgtest.Start(t)
	b := startBucket(t)
	flags := append([]string{"--markers", db.URL, "--lease", testLease.String()}, s3Flags(b.weed.Endpoint)...)
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startServer(t, dataA, freeAddr(t), flags...)
	pollUntil(t, "the first server's segments in the bucket", 60*time.Second, func() bool {
		return len(b.checkListed(t)) >= 2
	})
	bs := startServer(t, dataB, freeAddr(t), flags...)
	pollUntil(t, "the second server listing the stream", 60*time.Second, func() bool {
		code, _ := bs.get("/api/streams")
		return code == http.StatusOK
	})
	// The second is standby for as long as the first runs: checked over
	// several of the first's segments, after which it still wrote none.
	seen := len(b.checkListed(t))
	pollUntil(t, "three more segments of the first server", 60*time.Second, func() bool {
		if st := listStreams(t, bs)["demo"]; st.State != Standby {
			t.Fatalf("the second server's stream is %q while the first owns it, want %q\n%s", st.State, Standby, bs.log)
		}
		return len(b.checkListed(t)) >= seen+3
	})
	if code, _ := bs.get("/streams/demo/index.m3u8"); code != http.StatusNotFound {
		t.Errorf("the standby serves the playlist: %d, want 404", code)
	}
	if code, _ := bs.get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz of the standby: %d, want 200 (standby is healthy)", code)
	}
	if files, _ := filepath.Glob(filepath.Join(dataB, "demo", "*.ts")); len(files) > 0 {
		t.Fatalf("the standby wrote segments: %v", files)
	}

	var acked []int64
	detected := a.markers(t) // the fixed events': their PTS lie in the stream
	if len(detected) == 0 {
		t.Fatal("the owner has no marker of its fixed events")
	}
	for _, m := range detected {
		acked = append(acked, m.ID)
	}
	for i := range 5 {
		code, m := a.postMarker(fmt.Sprintf("before the crash %d", i), detected[0].PTS+int64(i+1))
		if code != http.StatusCreated {
			t.Fatalf("POST a marker to the owner: %d", code)
		}
		acked = append(acked, m.ID)
	}
	epoch := listStreams(t, a)["demo"].Epoch
	dated := map[int64]string{} // each marker's program_date_time on the owner
	for _, m := range a.markers(t) {
		dated[m.ID] = m.ProgramDateTime
	}
	a.stop(t, syscall.SIGKILL)
	killed := time.Now()
	before := segmentSeqs(b.keys(t)) // the first can upload no more
	last := before[len(before)-1]

	// A generous bound: the lease lapses within testLease of the kill,
	// and the standby asks every tenth of it (BenchmarkLeaseTakeover
	// measures the figure).
	pollUntil(t, "the second server taking the stream over", testLease+20*time.Second, func() bool {
		return listStreams(t, bs)["demo"].State != Standby
	})
	t.Logf("taken over %s after kill -9 (lease %s)", time.Since(killed).Round(10*time.Millisecond), testLease)

	pollUntil(t, "the second server's first segment in the bucket's playlist", 60*time.Second, func() bool {
		pl := b.playlist(t)
		return pl != nil && pl.SeqNo > last
	})
	pl := b.playlist(t)
	b.checkListed(t)
	segs := pl.GetAllSegments()
	if pl.SeqNo != last+1 {
		t.Errorf("the second server's first segment is %d; the bucket held up to %d: want %d, the next", pl.SeqNo, last, last+1)
	}
	if !segs[0].Discontinuity {
		t.Errorf("the first segment after the takeover has no EXT-X-DISCONTINUITY")
	}
	if pl.DiscontinuitySeq != 0 {
		t.Errorf("EXT-X-DISCONTINUITY-SEQUENCE %d: the first server's playlist had no discontinuity, so 0", pl.DiscontinuitySeq)
	}
	after := segmentSeqs(b.keys(t))
	for _, q := range after {
		if q <= last && !slices.Contains(before, q) {
			t.Errorf("segment %d, at or below the first server's last (%d), written anew after the takeover", q, last)
		}
	}

	// The second server goes on on the first's timeline (the epoch the
	// bucket's playlist carries): every marker has the time it had.
	if got := listStreams(t, bs)["demo"].Epoch; !got.Equal(epoch) || epoch.IsZero() {
		t.Errorf("epoch after the takeover %s, before %s: want the same", got, epoch)
	}
	var have []int64
	for _, m := range bs.markers(t) {
		have = append(have, m.ID)
		if was, ok := dated[m.ID]; ok && m.ProgramDateTime != was {
			t.Errorf("marker %d: program_date_time %s after the takeover, %s before", m.ID, m.ProgramDateTime, was)
		}
	}
	for _, id := range acked {
		if !slices.Contains(have, id) {
			t.Errorf("marker %d, acknowledged by the first server, is not served by the second (it serves %v)", id, have)
		}
	}
	bs.stop(t, syscall.SIGTERM)
}

// TestLeaseFlag: --lease is 10 s unless given; one under 1 s, or not a
// duration, is refused on one line naming the flag (exit 2).
func TestLeaseFlag(t *testing.T) {
	if c, err := parseServe(nil, noEnv); err != nil || c.Lease != defaultLease {
		t.Errorf("--lease not given: %s, %v; want %s", c.Lease, err, defaultLease)
	}
	if c, err := parseServe([]string{"--lease", "30s"}, noEnv); err != nil || c.Lease != 30*time.Second {
		t.Errorf("--lease 30s: %s, %v", c.Lease, err)
	}
	for _, v := range []string{"500ms", "0", "-5s", "ten"} {
		data := t.TempDir()
		r := runCLI(t, data, "serve", "--addr", unusedAddr(t), "--data", data, "--lease", v)
		checkUsageError(t, r, "--lease")
	}
}

// BenchmarkLeaseTakeover measures how long after kill -9 of the owner a
// standby `hlsmark serve` owns the stream (its state leaves standby),
// with --lease 2s: each iteration starts a standby, kills the owner and
// waits for the standby, which owns the stream for the next. Reported:
// the mean and the longest, in seconds. The servers are built with the
// race detector, as in every test here.
func BenchmarkLeaseTakeover(b *testing.B) {
	db := pgtest.Start(b)
	bucket := startBucket(b)
	flags := append([]string{"--markers", db.URL, "--lease", testLease.String()}, s3Flags(bucket.weed.Endpoint)...)
	owner := startServer(b, b.TempDir(), freeAddr(b), flags...)
	pollUntil(b, "the first owner live", time.Minute, func() bool {
		code, _ := owner.get("/streams/demo/index.m3u8")
		return code == http.StatusOK
	})
	var total, longest time.Duration
	for b.Loop() {
		b.StopTimer()
		standby := startServer(b, b.TempDir(), freeAddr(b), flags...)
		pollUntil(b, "a standby", time.Minute, func() bool {
			code, _ := standby.get("/api/streams")
			return code == http.StatusOK && listStreams(b, standby)["demo"].State == Standby
		})
		b.StartTimer()
		owner.stop(b, syscall.SIGKILL)
		killed := time.Now()
		pollUntil(b, "the takeover", time.Minute, func() bool {
			return listStreams(b, standby)["demo"].State != Standby
		})
		took := time.Since(killed)
		total, longest = total+took, max(longest, took)
		owner = standby
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/takeover")
	b.ReportMetric(longest.Seconds(), "s-longest")
}
