package playlist

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// runInit names the init segment of the current run: the run (its first
// segment, media.Segment.Init) of the latest segment added, or restored
// while init.mp4 is still its (restoreRun), whose segments' EXT-X-MAP is
// media.InitName. Segments of earlier runs name their own init segment,
// media.RunInitName: a restart with another picture size rewrites
// InitName before its first segment is added, while one with the same
// init segment continues its run (muxer.keepInit).
type runInit struct {
	first media.Seq
	set   bool
}

// uri returns the URI of the init segment fMP4 segment s plays after.
func (r runInit) uri(s media.Segment) string {
	if r.set && s.Init == r.first {
		return media.InitName
	}
	return media.RunInitName(s.Init)
}

// writeMap writes the EXT-X-MAP tag naming the init segment at uri for
// the segments after it (RFC 8216, section 4.3.2.5), if f is fMP4; an
// MPEG-TS playlist has none.
func writeMap(b *bytes.Buffer, f media.Format, uri string) {
	if f == media.FMP4 {
		b.WriteString("#EXT-X-MAP:URI=\"" + uri + "\"\n")
	}
}

// firstMapURI is the URI of the EXT-X-MAP heading a playlist listing segs:
// the first one's init segment, or the current run's if none is listed.
func (r runInit) firstMapURI(segs []media.Segment) string {
	if len(segs) == 0 {
		return media.InitName
	}
	return r.uri(segs[0])
}

// InitPath returns the path of the init segment of an fMP4 stream named
// name in its playlists' EXT-X-MAP: media.InitName, the current run's, or
// the media.RunInitName of a run with segments still listed or retained;
// false for any other name, and for an MPEG-TS stream, which has none.
func (p *Playlist) InitPath(name string) (string, bool) {
	if p.cfg.Format != media.FMP4 {
		return "", false
	}
	if name == media.InitName {
		return filepath.Join(p.cfg.Dir, name), true
	}
	first, ok := media.ParseRunInitName(name)
	if !ok {
		return "", false
	}
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	for _, list := range [][]media.Segment{p.pub.retired, p.pub.segs} {
		if slices.ContainsFunc(list, func(s media.Segment) bool { return s.Init == first }) {
			return filepath.Join(p.cfg.Dir, name), true
		}
	}
	return "", false
}

// deleteInits removes the init segments of the runs of the deleted
// segments doomed that none of the segments of v (listed or retained)
// plays after any more.
func (p *Playlist) deleteInits(doomed []media.Segment, v view) error {
	if p.cfg.Format != media.FMP4 {
		return nil
	}
	used := map[media.Seq]bool{}
	for _, list := range [][]media.Segment{v.retired, v.segs} {
		for _, s := range list {
			used[s.Init] = true
		}
	}
	// The current run's, which a run the muxer is starting may take up
	// before its first segment is added (see muxer.keepInit).
	current, err := os.Stat(filepath.Join(p.cfg.Dir, media.InitName))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	gone := map[media.Seq]bool{}
	for _, s := range doomed {
		if used[s.Init] || gone[s.Init] {
			continue
		}
		path := filepath.Join(p.cfg.Dir, media.RunInitName(s.Init))
		if fi, err := os.Stat(path); current != nil && err == nil && os.SameFile(fi, current) {
			continue
		}
		gone[s.Init] = true
		err := os.Remove(path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// restoreRun makes the run of the last restored segment the current one
// if init.mp4 is still its init segment, so that the playlist names it as
// it was served before the restart; a run started after it (whose first
// segment never came) leaves every restored segment naming its own.
func (p *Playlist) restoreRun() {
	if p.cfg.Format != media.FMP4 || len(p.segs) == 0 {
		return
	}
	last := p.segs[len(p.segs)-1].Init
	cur, err1 := os.Stat(filepath.Join(p.cfg.Dir, media.InitName))
	own, err2 := os.Stat(filepath.Join(p.cfg.Dir, media.RunInitName(last)))
	if err1 == nil && err2 == nil && os.SameFile(cur, own) {
		p.run = runInit{first: last, set: true}
	}
}
