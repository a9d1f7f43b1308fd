package pipelinetest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// Listed is a segment as a playlist file lists it, read with grafov/m3u8,
// which shares no code with hlsmark's playlist writer.
type Listed struct {
	Seq  media.Seq
	Path string    // the segment file, in the playlist's folder
	PDT  time.Time // its EXT-X-PROGRAM-DATE-TIME
}

// ReadPlaylist reads the playlist file in dir with grafov/m3u8's strict
// decoder and returns the segments it lists, in order, and whether it has
// EXT-X-ENDLIST. A missing file lists nothing; one that does not parse
// fails the test.
func ReadPlaylist(t testing.TB, dir string) (segs []Listed, ended bool) {
	t.Helper()
	mp := ReadMediaPlaylist(t, dir)
	if mp == nil {
		return nil, false
	}
	for i, s := range mp.GetAllSegments() {
		segs = append(segs, Listed{Seq: media.Seq(mp.SeqNo + uint64(i)), Path: filepath.Join(dir, s.URI), PDT: s.ProgramDateTime})
	}
	return segs, mp.Closed
}

// ReadMediaPlaylist reads the playlist file in dir with grafov/m3u8's
// strict decoder, for tests that check its tags; nil if there is no file.
// One that does not parse fails the test.
func ReadMediaPlaylist(t testing.TB, dir string) *m3u8.MediaPlaylist {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, playlist.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
	if err != nil {
		t.Fatalf("grafov/m3u8 rejects the playlist: %v\n%s", err, b)
	}
	return pl.(*m3u8.MediaPlaylist)
}
