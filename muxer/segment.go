package muxer

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// outFile is a file libav writes: it has a temporary name until it is
// complete, then moves into place (commit).
type outFile struct {
	path string
	tmp  string
	out  *astiav.IOContext
}

// segmentFile is the file of the segment being written.
type segmentFile struct {
	outFile
	seg     media.Segment
	lastPTS clock.Ticks // latest PTS in presentation order
	prevGap clock.Ticks // from the frame shown before lastPTS to it
}

// tmpName is where a segment is written before it is complete. The dot
// keeps it out of any listing of segment names.
func tmpName(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
}

// createFile opens the temporary file of the file at path for writing.
func createFile(path string) (outFile, error) {
	f := outFile{path: path, tmp: tmpName(path)}
	out, err := astiav.OpenIOContext(f.tmp, astiav.NewIOContextFlags(astiav.IOContextFlagWrite))
	if err != nil {
		return f, fmt.Errorf("open %s: %w", f.tmp, err)
	}
	f.out = out
	return f, nil
}

// createSegment opens seg's temporary file for writing.
func createSegment(seg media.Segment) (*segmentFile, error) {
	f, err := createFile(seg.Path)
	if err != nil {
		return nil, err
	}
	return &segmentFile{outFile: f, seg: seg}, nil
}

// add counts p, just written into the segment.
func (f *segmentFile) add(p media.Packet) {
	// Packets come in decode order: with B-frames the last packet is not
	// the last frame shown, so keep the latest PTS and the gap to the frame
	// shown just before it.
	switch {
	case f.seg.Frames == 0:
		f.lastPTS = p.PTS
	case p.PTS > f.lastPTS:
		f.prevGap, f.lastPTS = p.PTS-f.lastPTS, p.PTS
	case f.prevGap == 0 || f.lastPTS-p.PTS < f.prevGap:
		f.prevGap = f.lastPTS - p.PTS
	}
	f.seg.Frames++
}

// frameGap estimates the last frame's duration: the gap before it, or one
// nominal frame interval when the segment holds a single frame.
func (f *segmentFile) frameGap(fps int) clock.Ticks {
	if f.prevGap > 0 {
		return f.prevGap
	}
	return clock.Hz / clock.Ticks(fps)
}

// Step is a point on a segment's path to disk, for Config.AtStep.
type Step int

// The steps of a segment's path, in order.
const (
	// Written: the temporary file is complete and closed, not yet synced.
	Written Step = iota + 1
	// Synced: the temporary file is on stable storage.
	Synced
	// Renamed: the file has its name and the folder is synced; the
	// playlist does not list it yet.
	Renamed
)

// commit closes the segment's file and moves it into place (see
// outFile.commit), noting its size. at, if set, is told of each step done.
func (f *segmentFile) commit(at func(Step, media.Segment)) error {
	size, err := f.outFile.commit(func(s Step) {
		if at != nil {
			at(s, f.seg)
		}
	})
	f.seg.Size = size
	return err
}

// commit closes the file, flushes it to disk, renames it into place and
// syncs the folder, so the name survives a crash of the machine too, and
// returns its size. If any step fails, the temporary file is removed.
// step is told of each step done.
func (f *outFile) commit(step func(Step)) (size int64, err error) {
	err = f.out.Close()
	f.out = nil
	if err == nil {
		step(Written)
		err = syncFile(f.tmp)
	}
	if err == nil {
		step(Synced)
		var st os.FileInfo
		if st, err = os.Stat(f.tmp); err == nil {
			size = st.Size()
			err = os.Rename(f.tmp, f.path)
		}
	}
	if err == nil {
		err = durable.SyncDir(filepath.Dir(f.path))
		if err != nil {
			os.Remove(f.path)
		}
	}
	if err != nil {
		os.Remove(f.tmp)
		return 0, err
	}
	step(Renamed)
	return size, nil
}

// discard closes the file and removes it.
func (f *outFile) discard() {
	if f.out != nil {
		f.out.Close()
		f.out = nil
	}
	os.Remove(f.tmp)
}

// syncFile flushes a closed file's data to stable storage, so a segment
// that the playlist lists survives a crash of the machine.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
