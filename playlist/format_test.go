package playlist_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// casesFormat are the segment formats and what RFC 8216 asks of their
// playlists: EXT-X-MAP for fMP4 (section 4.3.2.5), which needs version 6
// in a playlist that is not I-frames only (section 7); version 3, for
// decimal EXTINF, otherwise.
var casesFormat = []struct {
	format  media.Format
	version uint8
	mapURI  string
	ext     string
}{
	{media.TS, 3, "", ".ts"},
	{media.FMP4, 6, "init.mp4", ".m4s"},
}

// TestFormatPlaylists has grafov/m3u8 read the live and the VOD playlist
// of each format strictly: the version, the init segment's EXT-X-MAP
// before the first segment (and only for fMP4), every URI the format's.
func TestFormatPlaylists(t *testing.T) {
	for _, c := range casesFormat {
		t.Run(c.format.String(), func(t *testing.T) {
			p, mk := newPlaylist(t, playlist.Config{Window: 3 * time.Second, Grace: time.Hour, Retain: time.Hour, Target: time.Second, Format: c.format})
			for range 6 {
				add(t, p, mk.make(time.Second))
			}
			vod, ok := p.VOD(0, clock.Ticks(1<<40), nil)
			if !ok {
				t.Fatal("no VOD playlist")
			}
			for name, data := range map[string][]byte{"live": p.Encoded(), "vod": vod} {
				pl, segs := decodeStrict(t, data)
				if pl.Version() != c.version || !strings.Contains(string(data), "#EXT-X-VERSION:"+string(rune('0'+c.version))+"\n") {
					t.Errorf("%s: version %d, want %d:\n%s", name, pl.Version(), c.version, data)
				}
				var uri string
				if pl.Map != nil {
					uri = pl.Map.URI
				}
				if uri != c.mapURI {
					t.Errorf("%s: EXT-X-MAP URI %q, want %q:\n%s", name, uri, c.mapURI, data)
				}
				if strings.Count(string(data), "#EXT-X-MAP:") != min(len(c.mapURI), 1) {
					t.Errorf("%s: want one EXT-X-MAP for fMP4, none for TS:\n%s", name, data)
				}
				if c.mapURI != "" && strings.Index(string(data), "#EXT-X-MAP:") > strings.Index(string(data), "#EXTINF:") {
					t.Errorf("%s: EXT-X-MAP after the first segment:\n%s", name, data)
				}
				for _, s := range segs {
					if !strings.HasSuffix(s.URI, c.ext) {
						t.Errorf("%s: segment URI %q, want %s", name, s.URI, c.ext)
					}
				}
			}
		})
	}
}

// TestRestoreRefusesOtherFormat restarts a stream folder in the other
// format: New refuses with a FormatError naming both, and the state is
// untouched (the same format still restores every segment).
func TestRestoreRefusesOtherFormat(t *testing.T) {
	for _, c := range casesFormat {
		t.Run(c.format.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := restoreConfig(dir)
			cfg.Format = c.format
			p, mk := newPlaylist(t, cfg)
			segs := writeRun(t, p, mk, 90000, 90000, 90000)
			other := cfg
			other.Format = media.FMP4 - c.format
			_, err := playlist.New(other)
			var fe *playlist.FormatError
			if !errors.As(err, &fe) || fe.Recorded != c.format || fe.Wanted != other.Format ||
				!strings.Contains(err.Error(), "recorded as "+c.format.String()) {
				t.Fatalf("restart as %s: %v, want a FormatError", other.Format, err)
			}
			got := restore(t, cfg).Segments()
			if len(got) != len(segs) || got[0].Format != c.format || got[0].Path != segs[0].Path {
				t.Fatalf("restored %+v, want %+v", got, segs)
			}
		})
	}
}
