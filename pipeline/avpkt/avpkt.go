// Package avpkt reads and fills the payload of go-astiav packets in place.
//
// go-astiav v0.16.0 copies a packet's payload into a new Go slice on every
// Packet.Data call and into a new libav buffer on every Packet.FromData,
// and has no Packet.UnsafePointer to do better: one allocation per packet
// in the encoder and two in the muxer. This package reaches the AVPacket
// behind an astiav.Packet (a struct of one pointer, checked at compile
// time) so that the hot path allocates nothing.
package avpkt

// #cgo pkg-config: libavcodec
// #include <string.h>
// #include <libavcodec/avcodec.h>
import "C"

import (
	"errors"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// astiav.Packet must be exactly one pointer: the index is out of range (or
// the constant overflows) and the build fails if go-astiav changes it.
var _ = [1]struct{}{}[unsafe.Sizeof(astiav.Packet{})-unsafe.Sizeof(uintptr(0))]

func av(p *astiav.Packet) *C.AVPacket {
	return *(**C.AVPacket)(unsafe.Pointer(p))
}

// Bytes returns p's payload without copying it. The slice aliases libav
// memory: it is valid until p is unreferenced, refilled or freed, and must
// not be appended to.
func Bytes(p *astiav.Packet) []byte {
	c := av(p)
	if c.data == nil || c.size <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(c.data)), int(c.size))
}

// Payload is a reusable libav buffer for the packets given to a muxer.
// Writing with av_write_frame (astiav's FormatContext.WriteFrame) neither
// takes nor references a packet that has no reference-counted buffer, so
// a packet pointed at a Payload costs no allocation to write.
type Payload struct {
	buf *C.uint8_t
	cap int
}

// Set unreferences p, copies b into the payload (growing it if needed)
// and points p at it, unreferenced. p stays valid until the next Set or
// Free; unreferencing or freeing p does not free the payload.
func (pl *Payload) Set(p *astiav.Packet, b []byte) error {
	c := av(p)
	C.av_packet_unref(c)
	if pl.buf == nil || len(b) > pl.cap {
		pl.Free()
		n := max(2*len(b), 64<<10)
		pl.buf = (*C.uint8_t)(C.av_malloc(C.size_t(n + C.AV_INPUT_BUFFER_PADDING_SIZE)))
		if pl.buf == nil {
			return errors.New("avpkt: cannot allocate packet buffer")
		}
		pl.cap = n
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(pl.buf)), len(b)+C.AV_INPUT_BUFFER_PADDING_SIZE)
	clear(dst[copy(dst, b):]) // libav's readers may look past the end
	c.data, c.size = pl.buf, C.int(len(b))
	return nil
}

// Free releases the payload's buffer. Packets pointed at it must not be
// written after.
func (pl *Payload) Free() {
	if pl.buf != nil {
		C.av_free(unsafe.Pointer(pl.buf))
		pl.buf, pl.cap = nil, 0
	}
}
