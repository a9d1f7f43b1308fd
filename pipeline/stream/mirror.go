package stream

import (
	"context"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/playlist/bucket"
)

// drainWithin bounds how long a stopping stream waits for its last
// uploads; what is left is uploaded when the stream runs again.
const drainWithin = 10 * time.Second

// newMirror returns the stream's bucket mirror, hooked into the
// playlist's configuration: it follows the playlist's writes and
// deletions, and holds the deletion of files not uploaded yet.
func (s *Stream) newMirror(pcfg *playlist.Config) *bucket.Mirror {
	m := s.cfg.Bucket.NewMirror(bucket.MirrorConfig{
		Stream: s.cfg.Name, Target: s.cfg.Segment, Format: s.cfg.Format, Log: s.cfg.Log, Now: s.cfg.Clock.Now,
		OnLag: s.counts.UploadLag, OnFailed: s.counts.UploadFailed, OnUploaded: s.counts.SegmentUploaded, Epoch: s.timeline.Epoch,
	})
	deleted := pcfg.Deleted
	pcfg.Deleted = func(seg media.Segment) {
		deleted(seg)
		m.Deleted(seg)
	}
	pcfg.Wrote, pcfg.Hold = m.Wrote, m.Hold
	return m
}

// runMirror runs the mirror until the function it returns is called, at
// the end of Run: that waits (up to drainWithin) for the last segments and
// playlist, the one with EXT-X-ENDLIST, to be uploaded, then stops it.
func (s *Stream) runMirror(ctx context.Context) (stop func()) {
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.mirror.Run(mctx)
	}()
	return func() {
		dctx, cancelDrain := context.WithTimeout(mctx, drainWithin)
		if err := s.mirror.Drain(dctx); err != nil {
			s.cfg.Log.Warn("stopping with uploads left: the next run uploads them", "stream", s.cfg.Name, "err", err)
		}
		cancelDrain()
		cancel()
		<-done
	}
}
