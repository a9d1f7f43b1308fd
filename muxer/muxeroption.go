package muxer

// #cgo pkg-config: libavformat libavutil
// #include <stdlib.h>
// #include <libavformat/avformat.h>
// #include <libavutil/opt.h>
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// astiav.FormatContext must be exactly one pointer (to its AVFormatContext):
// the index is out of range and the build fails if go-astiav changes it.
var _ = [1]struct{}{}[unsafe.Sizeof(astiav.FormatContext{})-unsafe.Sizeof(uintptr(0))]

// setMuxerOption sets an option of fc's muxer (its private context) after
// the header is written, as libavformat's hls muxer does between segments.
// go-astiav v0.16.0 only passes options to WriteHeader.
func setMuxerOption(fc *astiav.FormatContext, name, value string) error {
	c := *(**C.AVFormatContext)(unsafe.Pointer(fc))
	cname, cvalue := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(cvalue))
	if ret := C.av_opt_set(c.priv_data, cname, cvalue, 0); ret < 0 {
		return fmt.Errorf("muxer option %s=%s: %w", name, value, astiav.Error(ret))
	}
	return nil
}
