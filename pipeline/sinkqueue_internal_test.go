package pipeline

import (
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

type nopSink struct{ n int }

func (s *nopSink) WritePacket(media.Packet) error { s.n++; return nil }
func (s *nopSink) Close() error                   { return nil }

// TestSinkQueueLetsLargeBuffersGo passes a small and a large packet through
// deliver: the small one's buffer comes back for reuse, the large one's
// (above keptBuffer) is let go, and neither slot keeps a view of the data.
func TestSinkQueueLetsLargeBuffersGo(t *testing.T) {
	p := &Pipeline{Sink: &nopSink{}}
	packets := make(chan *queuedPacket, 2)
	spare := make(chan *queuedPacket, 2)
	for _, n := range []int{1000, keptBuffer + 1} {
		q := &queuedPacket{buf: make([]byte, n)}
		q.Data = q.buf
		packets <- q
	}
	close(packets)
	if err := p.deliver(packets, spare, make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	small, large := <-spare, <-spare
	if cap(small.buf) != 1000 || large.buf != nil || small.Data != nil || large.Data != nil {
		t.Fatalf("small buffer cap %d, large buffer %v, data kept %v %v", cap(small.buf), large.buf != nil, small.Data != nil, large.Data != nil)
	}
	if p.Stats.Packets.Load() != 2 {
		t.Fatalf("%d packets delivered, want 2", p.Stats.Packets.Load())
	}
}
