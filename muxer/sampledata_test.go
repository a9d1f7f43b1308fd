package muxer

import (
	"bytes"
	"testing"
)

// casesSampleData are Annex B access units given to an fMP4 stream whose
// avcC holds the SPS 67 64 00 1f and the PPS 68 ee 3c 80, with the sample
// data that must come out (nil: refused).
var casesSampleData = []struct {
	name   string
	au, ok []byte
}{
	{"an IDR loses the avcC's SPS and PPS",
		[]byte{0, 0, 0, 1, 0x67, 0x64, 0, 0x1f, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80, 0, 0, 1, 0x65, 0x88, 0x84},
		[]byte{0, 0, 0, 1, 0x65, 0x88, 0x84}},
	{"a P frame stays as it is",
		[]byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x24},
		[]byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x24}},
	{"an SPS unlike the avcC's is refused",
		[]byte{0, 0, 0, 1, 0x67, 0x64, 0, 0x28, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80, 0, 0, 1, 0x65, 0x88}, nil},
	{"a PPS unlike the avcC's is refused",
		[]byte{0, 0, 0, 1, 0x68, 0xef, 0x3c, 0x80, 0, 0, 1, 0x65, 0x88}, nil},
}

// TestSampleData checks what fmp4Stream.sampleData makes of access units:
// parameter sets that are the avcC's dropped, others refused, since
// without them in band the samples after them would decode wrong.
func TestSampleData(t *testing.T) {
	s := &fmp4Stream{params: map[string]bool{
		string([]byte{0x67, 0x64, 0, 0x1f}):    true,
		string([]byte{0x68, 0xee, 0x3c, 0x80}): true,
	}}
	for _, c := range casesSampleData {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.sampleData(nil, c.au)
			if c.ok == nil {
				if err == nil {
					t.Fatalf("sampleData(% x) = % x, want an error", c.au, got)
				}
				return
			}
			if err != nil || !bytes.Equal(got, c.ok) {
				t.Fatalf("sampleData(% x) = % x, %v; want % x", c.au, got, err, c.ok)
			}
		})
	}
}
