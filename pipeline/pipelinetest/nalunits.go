package pipelinetest

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// H264NALTypes has the ffprobe CLI read the H.264 track of the MP4 file at
// path and returns the NAL unit types of its avcC's parameter sets (the
// SPS, then the PPS) and of every sample, in decoding order, each sample
// split at the lengths that prefix its NAL units (their size from the
// avcC). Malformed data or a missing ffprobe fails the test.
func H264NALTypes(t testing.TB, path string) (avcC []int, samples [][]int) {
	t.Helper()
	var probe struct {
		Streams []struct {
			Extradata string `json:"extradata"`
		} `json:"streams"`
		Packets []struct {
			Data string `json:"data"`
		} `json:"packets"`
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-show_packets",
		"-show_data", "-show_entries", "stream=extradata:packet=data", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s (Debian package ffmpeg): %v", path, err)
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	if len(probe.Streams) != 1 {
		t.Fatalf("ffprobe %s: %d video streams, want 1", path, len(probe.Streams))
	}
	cfg := unhexdump(t, probe.Streams[0].Extradata)
	// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1): version,
	// profile, compatibility, level, lengthSizeMinusOne (low 2 bits), the
	// SPS count (low 5 bits), the SPS each after a 16-bit length, the PPS
	// count and the PPS likewise.
	if len(cfg) < 7 || cfg[0] != 1 {
		t.Fatalf("%s: extradata % x is no avcC", path, cfg)
	}
	lengthSize := int(cfg[4]&3) + 1
	rest := cfg[5:]
	for _, mask := range []byte{0x1f, 0xff} {
		if len(rest) == 0 {
			t.Fatalf("%s: avcC % x ends early", path, cfg)
		}
		n := int(rest[0] & mask)
		rest = rest[1:]
		for range n {
			if len(rest) < 3 {
				t.Fatalf("%s: avcC % x ends early", path, cfg)
			}
			size := int(binary.BigEndian.Uint16(rest))
			if size == 0 || len(rest) < 2+size {
				t.Fatalf("%s: avcC % x: parameter set of %d bytes", path, cfg, size)
			}
			avcC = append(avcC, int(rest[2]&0x1f))
			rest = rest[2+size:]
		}
	}
	for i, p := range probe.Packets {
		data := unhexdump(t, p.Data)
		var types []int
		for len(data) > 0 {
			if len(data) < lengthSize {
				t.Fatalf("%s: sample %d: %d bytes left, less than a length", path, i, len(data))
			}
			var size int
			for _, b := range data[:lengthSize] {
				size = size<<8 | int(b)
			}
			data = data[lengthSize:]
			if size == 0 || size > len(data) {
				t.Fatalf("%s: sample %d: NAL unit of %d bytes, %d left", path, i, size, len(data))
			}
			types = append(types, int(data[0]&0x1f))
			data = data[size:]
		}
		samples = append(samples, types)
	}
	return avcC, samples
}

// unhexdump returns the bytes of ffprobe's -show_data hex dump: lines of
// an offset, a colon, up to sixteen bytes in hex (grouped by two, padded
// to 39 characters) and their text.
func unhexdump(t testing.TB, dump string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(dump, "\n") {
		if line == "" {
			continue
		}
		_, rest, ok := strings.Cut(line, ": ")
		if !ok || len(rest) < 39 {
			t.Fatalf("ffprobe data line %q", line)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(rest[:39], " ", ""))
		if err != nil {
			t.Fatalf("ffprobe data line %q: %v", line, err)
		}
		out = append(out, b...)
	}
	return out
}
