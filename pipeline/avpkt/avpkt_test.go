package avpkt

import (
	"bytes"
	"testing"

	"github.com/asticode/go-astiav"
)

// TestPayloadSetAndBytes fills a packet from a Payload, reads it back in
// place, and checks that the buffer is reused until it must grow.
func TestPayloadSetAndBytes(t *testing.T) {
	p := astiav.AllocPacket()
	defer p.Free()
	var pl Payload
	defer pl.Free()
	for _, n := range []int{0, 1, 1000, 64 << 10, 200 << 10, 10} {
		b := bytes.Repeat([]byte{byte(n)}, n)
		before, fits := pl.buf, n <= pl.cap
		if err := pl.Set(p, b); err != nil {
			t.Fatal(err)
		}
		if got := Bytes(p); !bytes.Equal(got, b) || p.Size() != n {
			t.Fatalf("%d bytes: packet holds %d bytes, size %d", n, len(got), p.Size())
		}
		if before != nil && fits && pl.buf != before {
			t.Fatalf("%d bytes: buffer of %d reallocated", n, pl.cap)
		}
		// libav's own copy must equal ours too.
		if got := p.Data(); !bytes.Equal(got, b) {
			t.Fatalf("%d bytes: astiav reads %d bytes", n, len(got))
		}
	}
	p.Unref() // must not free the payload, which Free releases
	if Bytes(p) != nil {
		t.Fatal("unreferenced packet still has a payload")
	}
}

// TestSetAllocatesNothing is the point of the package.
func TestSetAllocatesNothing(t *testing.T) {
	p := astiav.AllocPacket()
	defer p.Free()
	var pl Payload
	defer pl.Free()
	b := make([]byte, 5000)
	if n := testing.AllocsPerRun(100, func() {
		if err := pl.Set(p, b); err != nil {
			t.Fatal(err)
		}
		_ = Bytes(p)
	}); n != 0 {
		t.Fatalf("%v Go allocations per packet", n)
	}
}
