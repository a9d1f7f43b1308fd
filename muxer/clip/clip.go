package clip

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// maxClips is how many clips the program cuts at once, whatever their
// streams; more requests wait their turn (or give up with their context),
// so that clips never take more than this many cores and disks from the
// streams.
const maxClips = 2

// slots holds a token for each clip being cut.
var slots = make(chan struct{}, maxClips)

// Clips cuts MP4 clips of one stream's segments on disk. It is safe for
// concurrent use.
type Clips struct {
	segmentAt func(clock.Ticks) (media.Segment, bool)
}

// New returns the clips of the stream whose segments on disk segmentAt
// finds by PTS (the playlist's SegmentAt: listed, retained or in grace).
func New(segmentAt func(clock.Ticks) (media.Segment, bool)) *Clips {
	return &Clips{segmentAt: segmentAt}
}

// MP4 writes into the file at path (created or truncated) an MP4 of the
// frames with a PTS from from (inclusive) to to (exclusive), ending early
// at a discontinuity or at the newest segment on disk. It returns
// media.ErrFrameGone when no segment on disk holds from, media.ErrNoFrame
// when no frame lies in the range.
func (c *Clips) MP4(ctx context.Context, path string, from, to clock.Ticks) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-slots }()
	segs, err := c.run(from, to)
	if err != nil {
		return err
	}
	head, err := scanHead(ctx, segs, from)
	if err != nil {
		return err
	}
	segs = segs[head.seg:]
	if head.start >= to {
		return media.ErrNoFrame
	}
	return write(ctx, path, segs, head, to)
}

// run returns the segments on disk from the one holding from on, each
// following on from the one before without a discontinuity, up to the one
// holding the PTS just before to.
func (c *Clips) run(from, to clock.Ticks) ([]media.Segment, error) {
	first, ok := c.segmentAt(from)
	if !ok {
		return nil, media.ErrFrameGone
	}
	if _, err := os.Stat(first.Path); errors.Is(err, os.ErrNotExist) {
		return nil, media.ErrFrameGone // deleted since it was listed
	}
	segs := []media.Segment{first}
	for last := first; last.End() < to; {
		next, ok := c.segmentAt(last.End())
		if !ok || next.Discontinuity || next.FirstPTS != last.End() {
			break // not written yet, or a new run: the clip ends here
		}
		segs = append(segs, next)
		last = next
	}
	return segs, nil
}

// head is where a clip's copy begins: at the keyframe with PTS key in
// segs[seg], the start frame (the first presented) having PTS start.
type head struct {
	seg        int
	key, start clock.Ticks
}

// scanHead reads the packets of the segment holding from (without
// decoding) for the first frame at or after from and the last keyframe at
// or before that frame. A segment begins with a keyframe; when from lies
// past the segment's last frame the start is the next segment's first.
func scanHead(ctx context.Context, segs []media.Segment, from clock.Ticks) (head, error) {
	h := head{start: -1, key: -1}
	var keys []clock.Ticks
	err := readPackets(ctx, segs[0], func(p packet) (bool, error) {
		if p.key {
			keys = append(keys, p.pts)
		}
		if p.pts >= from && (h.start < 0 || p.pts < h.start) {
			h.start = p.pts
		}
		return true, nil
	})
	if err != nil {
		return h, err
	}
	if h.start < 0 {
		if len(segs) == 1 {
			return h, media.ErrNoFrame
		}
		// The next segment begins with a keyframe, the first frame after
		// from.
		return head{seg: 1, key: segs[1].FirstPTS, start: segs[1].FirstPTS}, nil
	}
	for _, k := range keys {
		if k <= h.start && k > h.key {
			h.key = k
		}
	}
	if h.key < 0 {
		return h, fmt.Errorf("clip: segment %d has no keyframe before pts %d", segs[0].Seq, h.start)
	}
	return h, nil
}
