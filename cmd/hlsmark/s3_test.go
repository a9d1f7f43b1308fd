package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"
	"github.com/minio/minio-go/v7"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hlsmark/hlsmark/playlist/bucket/weedtest"
)

// The bucket and key prefix the S3 tests mirror the stream "demo" to.
const (
	testBucket = "media"
	testPrefix = "live/demo/"
)

// bucketReader reads the bucket as any S3 client would: minio-go, not
// the Mirror's code, lists it, and plain HTTP GETs fetch the objects
// (SeaweedFS without identities serves them to anyone).
type bucketReader struct {
	weed   *weedtest.Server
	client *minio.Client
}

// startBucket runs SeaweedFS with the test bucket made.
func startBucket(t testing.TB) *bucketReader {
	t.Helper()
	w := weedtest.Start(t)
	w.Bucket(t, testBucket)
	c, err := minio.New(strings.TrimPrefix(w.Endpoint, "http://"), &minio.Options{BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return &bucketReader{weed: w, client: c}
}

// s3Flags are the flags that mirror hlsmark's stream to the bucket
// at endpoint: the store's, or a proxy in front of it.
func s3Flags(endpoint string) []string {
	return []string{"--segments", "s3://" + testBucket + "/live", "--s3-endpoint", endpoint, "--s3-path-style"}
}

// keys lists the stream's object names (N.ts, index.m3u8).
func (b *bucketReader) keys(t *testing.T) []string {
	t.Helper()
	var names []string
	for obj := range b.client.ListObjects(context.Background(), testBucket, minio.ListObjectsOptions{Prefix: testPrefix}) {
		if obj.Err != nil {
			t.Fatalf("list the bucket: %v", obj.Err)
		}
		names = append(names, strings.TrimPrefix(obj.Key, testPrefix))
	}
	return names
}

// get fetches an object of the stream over HTTP: its status, body and
// headers.
func (b *bucketReader) get(t *testing.T, name string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(b.weed.Endpoint + "/" + testBucket + "/" + testPrefix + name)
	if err != nil {
		t.Fatalf("GET %s: %v", name, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("GET %s: %v", name, err)
	}
	return resp.StatusCode, body.Bytes(), resp.Header
}

// playlist fetches and parses the stream's playlist from the bucket; nil
// while there is none.
func (b *bucketReader) playlist(t *testing.T) *m3u8.MediaPlaylist {
	t.Helper()
	code, body, _ := b.get(t, "index.m3u8")
	if code == http.StatusNotFound {
		return nil
	}
	if code != http.StatusOK {
		t.Fatalf("GET index.m3u8: %d %s", code, body)
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil {
		t.Fatalf("the bucket's playlist does not parse: %v\n%s", err, body)
	}
	return pl.(*m3u8.MediaPlaylist)
}

// checkListed fetches the playlist, then lists the bucket, and fails the
// test if the playlist names a segment the bucket does not hold. It
// returns the names the playlist lists.
func (b *bucketReader) checkListed(t *testing.T) []string {
	t.Helper()
	pl := b.playlist(t)
	if pl == nil {
		return nil
	}
	have := b.keys(t)
	var listed []string
	for _, s := range pl.GetAllSegments() {
		if !slices.Contains(have, s.URI) {
			t.Fatalf("the bucket's playlist names %s, which the bucket does not hold (it holds %v)", s.URI, have)
		}
		listed = append(listed, s.URI)
	}
	return listed
}

// segmentSeqs returns the sequence numbers of the segment objects among
// names, in order.
func segmentSeqs(names []string) []uint64 {
	var seqs []uint64
	for _, n := range names {
		if v, err := strconv.ParseUint(strings.TrimSuffix(n, ".ts"), 10, 64); err == nil && strings.HasSuffix(n, ".ts") {
			seqs = append(seqs, v)
		}
	}
	slices.Sort(seqs)
	return seqs
}

// metric reads one series of the stream demo from the server's /metrics.
func (s *childServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	code, body := s.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "stream" && l.GetValue() == "demo" {
				return metricValue(m)
			}
		}
	}
	t.Fatalf("no series %s{stream=demo}", name)
	return 0
}

// TestSegmentsInBucket streams to a real SeaweedFS with --segments and a
// short window, --retain 0, while a reader polls the bucket: no playlist
// it fetches names a segment the bucket lacks. hlsmark reaches the store
// through a proxy that holds each request for 200 ms, as a store far away
// would, so that a playlist uploaded ahead of its segment would stay
// visible to the reader, which reads the store directly, for 200 ms at
// least, with every segment. Segments and playlist carry
// their Content-Type and Cache-Control; a segment that left the window is
// deleted from the bucket after its grace, as from the disk; and ffmpeg,
// once the stream ended, plays the playlist from the bucket over HTTP,
// every frame the same as from the disk.
func TestSegmentsInBucket(t *testing.T) {
	b := startBucket(t)
	data := t.TempDir()
	far := b.weed.Delayed(t, 200*time.Millisecond)
	s := startServer(t, data, freeAddr(t), append([]string{"--window", "2s", "--retain", "0"}, s3Flags(far)...)...)

	// The reader: until segment 0 is deleted from the bucket (its grace
	// is 2 s + 1 s after it left the window).
	var seen []uint64 // every segment the bucket was seen holding
	checks := 0
	pollUntil(t, "segment 0 deleted from the bucket", 60*time.Second, func() bool {
		b.checkListed(t)
		checks++
		seqs := segmentSeqs(b.keys(t))
		for _, q := range seqs {
			if !slices.Contains(seen, q) {
				seen = append(seen, q)
			}
		}
		return slices.Contains(seen, 0) && !slices.Contains(seqs, 0)
	})
	t.Logf("%d checks of the bucket's playlist against its objects", checks)
	if n := s.metric(t, "hlsmark_segment_upload_seconds"); n < float64(len(seen)) {
		t.Errorf("hlsmark_segment_upload_seconds counts %g uploads; want one for each of the %d segments seen in the bucket", n, len(seen))
	}

	t.Run("headers", func(t *testing.T) {
		listed := b.checkListed(t)
		if len(listed) == 0 {
			t.Fatal("the bucket's playlist lists no segment")
		}
		for _, c := range []struct{ name, contentType, cache string }{
			{listed[0], "video/mp2t", "public, max-age=31536000, immutable"},
			{"index.m3u8", "application/vnd.apple.mpegurl", "no-cache"},
		} {
			code, _, h := b.get(t, c.name)
			if code != http.StatusOK || h.Get("Content-Type") != c.contentType || h.Get("Cache-Control") != c.cache {
				t.Errorf("%s: %d, Content-Type %q, Cache-Control %q; want 200, %q, %q",
					c.name, code, h.Get("Content-Type"), h.Get("Cache-Control"), c.contentType, c.cache)
			}
		}
	})

	t.Run("deleted after the window", func(t *testing.T) {
		// Deleted from the bucket as from the disk: what the folder holds
		// and what the bucket holds are the same segments, once both are
		// told the newest (the bucket follows).
		pollUntil(t, "the bucket holding the folder's segments", 30*time.Second, func() bool {
			local, err := filepath.Glob(filepath.Join(data, "demo", "*.ts"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range local {
				names = append(names, filepath.Base(p))
			}
			return slices.Equal(segmentSeqs(names), segmentSeqs(b.keys(t)))
		})
	})

	s.stop(t, syscall.SIGTERM)

	t.Run("ffmpeg plays it from the bucket", func(t *testing.T) {
		ffmpeg, err := exec.LookPath("ffmpeg")
		if err != nil {
			t.Fatalf("ffmpeg is required (make setup-test installs it): %v", err)
		}
		frames := func(src string) []string {
			out, err := exec.Command(ffmpeg, "-v", "error", "-i", src, "-map", "0:v", "-f", "framemd5", "-").Output()
			if err != nil {
				t.Fatalf("ffmpeg %s: %v", src, err)
			}
			var lines []string
			for _, l := range strings.Split(string(out), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					lines = append(lines, l)
				}
			}
			return lines
		}
		if pl := b.playlist(t); pl == nil || !pl.Closed {
			t.Fatal("the bucket's playlist is not ended (EXT-X-ENDLIST) after the stream stopped")
		}
		fromBucket := frames(b.weed.Endpoint + "/" + testBucket + "/" + testPrefix + "index.m3u8")
		fromDisk := frames(filepath.Join(data, "demo", "index.m3u8"))
		if len(fromBucket) == 0 || !slices.Equal(fromBucket, fromDisk) {
			t.Fatalf("ffmpeg read %d frames from the bucket, %d from the disk; want the same, at least one", len(fromBucket), len(fromDisk))
		}
		t.Logf("ffmpeg read %d frames from the bucket", len(fromBucket))
	})
}

// TestSegmentsBucketDown stops SeaweedFS under a running stream while it
// writes several segments, then starts it again on the same folder and
// ports: the lag metric shows uploads fell behind by more than a segment,
// failed requests are counted, and afterwards the bucket holds every
// segment of the run and a playlist listing the newest. Then the store
// stops again, hlsmark is killed (SIGKILL) with segments not uploaded, and
// a new hlsmark on the same folder uploads them once the store is back.
func TestSegmentsBucketDown(t *testing.T) {
	b := startBucket(t)
	data := t.TempDir()
	addr := freeAddr(t)
	s := startServer(t, data, addr, append([]string{"--window", "1m"}, s3Flags(b.weed.Endpoint)...)...)
	pollUntil(t, "segments in the bucket", 60*time.Second, func() bool { return len(b.checkListed(t)) >= 2 })

	down := func(segments int) {
		t.Helper()
		b.weed.Stop(t)
		from := len(localSegments(t, data))
		pollUntil(t, "segments written while the store is down", 60*time.Second, func() bool {
			return len(localSegments(t, data)) >= from+segments
		})
	}
	down(10) // 10 s, as issue 18 asks
	lag := s.metric(t, "hlsmark_upload_lag_seconds")
	if lag <= 1 {
		t.Errorf("hlsmark_upload_lag_seconds %g with the store down for 10 segments of 1 s; want more than a segment", lag)
	}
	b.weed.Restart(t)
	caughtUp(t, b, data)
	if failed := s.metric(t, "hlsmark_uploads_failed_total"); failed == 0 {
		t.Error("hlsmark_uploads_failed_total 0 after the store was down")
	}

	// A restart resumes what was not uploaded.
	down(3)
	s.stop(t, syscall.SIGKILL)
	if !strings.Contains(s.log.String(), "uploads to the bucket fall behind") {
		t.Errorf("no log line on uploads falling behind:\n%s", s.log)
	}
	b.weed.Restart(t)
	s = startServer(t, data, addr, append([]string{"--window", "1m"}, s3Flags(b.weed.Endpoint)...)...)
	caughtUp(t, b, data)
	s.stop(t, syscall.SIGTERM)
}

// localSegments returns the segment files in the stream's folder.
func localSegments(t *testing.T, data string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(data, "demo", "*.ts"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	return names
}

// caughtUp waits until the bucket's playlist lists the newest segment the
// disk's playlist lists, then checks that the bucket holds every segment
// of the run, from 0 to that one (nothing leaves a 1 m window here).
func caughtUp(t *testing.T, b *bucketReader, data string) {
	t.Helper()
	var newest string
	pollUntil(t, "the bucket's playlist catching up with the disk's", 90*time.Second, func() bool {
		f, err := os.ReadFile(filepath.Join(data, "demo", "index.m3u8"))
		if err != nil {
			t.Fatal(err)
		}
		pl, _, err := m3u8.DecodeFrom(bytes.NewReader(f), true)
		if err != nil {
			t.Fatal(err)
		}
		segs := pl.(*m3u8.MediaPlaylist).GetAllSegments()
		listed := b.checkListed(t)
		if len(segs) == 0 || len(listed) == 0 {
			return false
		}
		newest = segs[len(segs)-1].URI
		return listed[len(listed)-1] == newest
	})
	seqs := segmentSeqs(b.keys(t))
	last, _ := strconv.ParseUint(strings.TrimSuffix(newest, ".ts"), 10, 64)
	for q := uint64(0); q <= last; q++ {
		if !slices.Contains(seqs, q) {
			t.Fatalf("segment %d missing from the bucket, which holds %v", q, seqs)
		}
	}
}
