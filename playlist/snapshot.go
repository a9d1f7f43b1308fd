package playlist

import "github.com/hlsmark/hlsmark/pipeline/media"

// Snapshot is the playlist as one write put it on disk: what a copy of the
// stream elsewhere (playlist/bucket) follows.
type Snapshot struct {
	// Encoded is the playlist file's content.
	Encoded []byte
	// Listed are the segments it lists, oldest first.
	Listed []media.Segment
	// Retired are the segments that left it and whose files are still on
	// disk, oldest first: all older than Listed.
	Retired []media.Segment
}

// snapshot returns what v shows, for Config.Wrote.
func (v view) snapshot() Snapshot {
	return Snapshot{Encoded: v.encoded, Listed: v.segs, Retired: v.retired}
}

// Snapshot returns the playlist as last written (or as restored from disk,
// before the first write).
func (p *Playlist) Snapshot() Snapshot {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return p.pub.snapshot()
}
