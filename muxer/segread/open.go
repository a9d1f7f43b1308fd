package segread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// ErrGone is returned by Open for a segment whose file is not there (any
// more): deleted by the window or retention while it was looked for.
var ErrGone = errors.New("segread: segment file gone")

// Input is an open segment: its video stream and its packets, in decoding
// order. Close frees it.
type Input struct {
	fc    *astiav.FormatContext
	io    *astiav.IOContext // an fMP4 segment's, read after its init segment
	video *astiav.Stream
	name  string
}

// Open opens the segment seg for reading its video packets: a TS file as
// it is, an fMP4 segment after its run's init segment in its folder
// (media.RunInitName(seg.Init)), as a player reads them.
func Open(seg media.Segment) (*Input, error) {
	if seg.Format == media.FMP4 {
		return OpenFMP4(filepath.Join(filepath.Dir(seg.Path), media.RunInitName(seg.Init)), seg.Path)
	}
	if _, err := os.Stat(seg.Path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrGone, seg.Path)
	}
	return open(seg.Path, nil)
}

// OpenFMP4 opens the fMP4 media segment at path, read after the init
// segment at initPath.
func OpenFMP4(initPath, path string) (*Input, error) {
	init, err := os.ReadFile(initPath)
	if err != nil {
		return nil, fmt.Errorf("segread: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrGone, path)
	}
	if err != nil {
		return nil, fmt.Errorf("segread: %w", err)
	}
	r := bytes.NewReader(append(init, data...))
	in, err := astiav.AllocIOContext(32<<10, false, func(b []byte) (int, error) {
		n, err := r.Read(b)
		if errors.Is(err, io.EOF) {
			return 0, astiav.ErrEof
		}
		return n, err
	}, func(offset int64, whence int) (int64, error) {
		if whence&avseekSize != 0 {
			return r.Size(), nil
		}
		return r.Seek(offset, whence&^avseekForce)
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("segread: %w", err)
	}
	s, err := open(path, in)
	if err != nil {
		in.Free()
		return nil, err
	}
	return s, nil
}

// The flags libav adds to a seek's whence (libavformat/avio.h): a request
// for the size, and a seek forced however costly.
const (
	avseekSize  = 0x10000
	avseekForce = 0x20000
)

// open opens the file at path, or in if set (path then only names it),
// and finds its video stream, whose time base must be 90 kHz.
func open(path string, in *astiav.IOContext) (_ *Input, err error) {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return nil, errors.New("segread: alloc format context")
	}
	url := path
	if in != nil {
		fc.SetPb(in) // libav marks it custom I/O: CloseInput leaves it to us
		url = ""
	}
	if err := fc.OpenInput(url, nil, nil); err != nil {
		fc.Free()
		return nil, fmt.Errorf("segread: open %s: %w", path, err)
	}
	s := &Input{fc: fc, io: in, name: path}
	defer func() {
		if err != nil {
			s.fc.CloseInput()
			s.fc.Free()
		}
	}()
	// H.264's codec parameters (its SPS and PPS) in a TS come from its
	// first packets.
	if err := fc.FindStreamInfo(nil); err != nil {
		return nil, fmt.Errorf("segread: %s: stream info: %w", path, err)
	}
	for _, st := range fc.Streams() {
		if st.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			s.video = st
			break
		}
	}
	if s.video == nil {
		return nil, fmt.Errorf("segread: %s: no video stream", path)
	}
	if tb := s.video.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return nil, fmt.Errorf("segread: %s: time base %d/%d, want 1/%d", path, tb.Num(), tb.Den(), clock.Hz)
	}
	return s, nil
}

// Video returns the segment's video stream: its codec parameters, its
// index.
func (s *Input) Video() *astiav.Stream { return s.video }

// Next reads the next video packet into pkt, which the caller unrefs; it
// returns astiav.ErrEof after the last.
func (s *Input) Next(pkt *astiav.Packet) error {
	for {
		if err := s.fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return astiav.ErrEof
			}
			return fmt.Errorf("segread: read %s: %w", s.name, err)
		}
		if pkt.StreamIndex() == s.video.Index() {
			return nil
		}
		pkt.Unref()
	}
}

// Close frees the input.
func (s *Input) Close() {
	s.fc.CloseInput()
	s.fc.Free()
	if s.io != nil {
		s.io.Free()
	}
}
