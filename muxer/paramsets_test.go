package muxer_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestFMP4ParameterSetsOnlyInAvcC has ffprobe list the NAL units of every
// sample of fMP4 runs, with and without parts: CMAF's avc1 sample entry
// keeps the SPS and PPS in the init segment's avcC, so no sample carries
// one (NAL types 7 and 8) while the avcC has both, and every segment
// still opens with an IDR (type 5). Checked to fail with the encoder's
// packets given to the mp4 muxer as they are (the first sample of each
// segment: [7 8 6 5]).
func TestFMP4ParameterSetsOnlyInAvcC(t *testing.T) {
	for _, part := range []time.Duration{0, partTarget} {
		for _, c := range casesEncoding {
			t.Run(c.name+" part "+part.String(), func(t *testing.T) {
				dir := t.TempDir()
				r := runMuxer(t, runConfig{dir: dir, frames: c.frames, bframes: c.bframes, keyInterval: c.keyInterval,
					format: media.FMP4, part: part})
				checkParameterSetsOnlyInAvcC(t, filepath.Join(dir, media.InitName), r.segments)
			})
		}
	}
}

// checkParameterSetsOnlyInAvcC checks segs, read after the init segment
// at init, as TestFMP4ParameterSetsOnlyInAvcC does.
func checkParameterSetsOnlyInAvcC(t *testing.T, init string, segs []media.Segment) {
	t.Helper()
	head, err := os.ReadFile(init)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) == 0 {
		t.Fatal("no segments")
	}
	for _, seg := range segs {
		data, err := os.ReadFile(seg.Path)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "probe.mp4")
		if err := os.WriteFile(path, append(slices.Clone(head), data...), 0o644); err != nil {
			t.Fatal(err)
		}
		avcC, samples := pipelinetest.H264NALTypes(t, path)
		if !slices.Equal(avcC, []int{7, 8}) {
			t.Fatalf("segment %d: avcC parameter sets of NAL types %v, want an SPS (7) and a PPS (8)", seg.Seq, avcC)
		}
		if len(samples) != seg.Frames || !slices.Contains(samples[0], 5) {
			t.Fatalf("segment %d: %d samples, the first of NAL types %v; want %d from an IDR (5)", seg.Seq, len(samples), samples[0], seg.Frames)
		}
		for i, types := range samples {
			if slices.Contains(types, 7) || slices.Contains(types, 8) {
				t.Fatalf("segment %d, sample %d: NAL types %v, with a parameter set in band", seg.Seq, i, types)
			}
		}
	}
}
