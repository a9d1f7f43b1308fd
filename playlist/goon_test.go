package playlist_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestGoOn readies a folder to go on from another node's playlist: the
// playlist New makes there lists its first segment as the next one, with
// EXT-X-DISCONTINUITY, after the discontinuities given, and keeps the
// larger target; a folder whose own state numbers past the given next is
// left alone.
func TestGoOn(t *testing.T) {
	dir := t.TempDir()
	changed, err := playlist.GoOn(dir, media.TS, 40, 3, 4)
	if err != nil || !changed {
		t.Fatalf("GoOn on a new folder: changed %v, %v; want true", changed, err)
	}
	cfg := playlist.Config{Dir: dir, Window: time.Minute, Target: 2 * time.Second}
	p, mk := newPlaylist(t, cfg)
	if got := p.NextSeq(); got != 40 {
		t.Fatalf("NextSeq %d after GoOn(next 40), want 40", got)
	}
	mk.next = p.NextSeq()
	add(t, p, mk.make(2*time.Second), mk.make(2*time.Second))
	b, err := os.ReadFile(filepath.Join(dir, playlist.FileName))
	if err != nil {
		t.Fatal(err)
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	mp := pl.(*m3u8.MediaPlaylist)
	segs := mp.GetAllSegments()
	if mp.SeqNo != 40 || mp.DiscontinuitySeq != 3 || mp.TargetDuration != 4 || !segs[0].Discontinuity || segs[1].Discontinuity {
		t.Errorf("after GoOn(next 40, 3 discontinuities, target 4 s):\n%s", b)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}

	// This folder numbers up to 42 now: an older published state is
	// behind it, and changes nothing.
	if changed, err := playlist.GoOn(dir, media.TS, 41, 0, 2); err != nil || changed {
		t.Errorf("GoOn behind the folder's own state: changed %v, %v; want false", changed, err)
	}
	if changed, err := playlist.GoOn(dir, media.TS, 50, 4, 2); err != nil || !changed {
		t.Errorf("GoOn ahead of the folder's own state: changed %v, %v; want true", changed, err)
	}
}
