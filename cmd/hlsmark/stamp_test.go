package main

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// TestFramedInputStamp streams framed grey pictures into `hlsmark serve
// --input - --input-format framed --stamp` and decodes every listed
// segment with libav: each frame shows, in its strip, the PTS its producer
// gave it, and the frames are those sent. Checked to fail with the Stamp
// flag not passed on to the raw source (no strip on any frame).
func TestFramedInputStamp(t *testing.T) {
	data := t.TempDir()
	s, w := startRawServer(t, data, "--input", "-", "--input-format", "framed", "--pix-fmt", "gray", "--size", "480x272", "--stamp")
	var sent []clock.Ticks
	for i := range 60 {
		sent = append(sent, clock.Ticks(7*clock.Hz+i*3600))
	}
	go func() {
		defer w.Close()
		for i, pts := range sent {
			frame := binary.BigEndian.AppendUint64(nil, uint64(pts))
			if _, err := w.Write(append(frame, bytes.Repeat([]byte{byte(60 + 2*i)}, 480*272)...)); err != nil {
				return
			}
		}
	}()
	pl := endedPlaylist(t, s, data)
	var read []clock.Ticks
	for _, seg := range segments(pl) {
		if _, err := segread.Decode(filepath.Join(data, "demo", seg.URI), func(f segread.Frame) error {
			pts, err := stamp.Read(f.Image)
			if err != nil || pts != f.PTS.TS() {
				t.Errorf("segment %d: the frame at PTS %d shows %d, %v", seg.SeqId, f.PTS, pts, err)
			}
			read = append(read, pts)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(read, sent) {
		t.Errorf("read stamps %v\nwant the %d PTS sent %v", read, len(sent), sent)
	}
}
