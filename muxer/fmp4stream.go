package muxer

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/avpkt"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// fmp4Stream is one libavformat mp4 muxer kept over consecutive segments,
// writing fragmented MP4 as CMAF asks: the init segment (ftyp and moov,
// the avc1 sample entry with the SPS and PPS in its avcC, and only there:
// see sampleData) once, into its own file, then movie fragments (moof and mdat), each flushed into the
// file of the segment being written (flushFragment). A segment is one
// fragment today; the parts of Low-Latency HLS will be one fragment each,
// flushed at every part boundary into the same file.
//
// Timestamps are exact: the track's timescale is 90000, the stream's
// time base, and every fragment is marked discontinuous to libavformat
// (movflags frag_discont), so that its tfdt (baseMediaDecodeTime) is its
// first packet's DTS as given, not the sum of the durations before it;
// without an edit list, a sample's PTS is its DTS plus its composition
// offset, the packet's PTS unchanged.
//
// A packet is held until the next one comes, which gives it its duration
// (the DTS step to the next one): the fragment's samples then last exactly
// until the next fragment's tfdt. Both are needed, as the tests found:
// without frag_discont set again after each fragment, the fragment after
// a gap (late frames, a source's break) starts where the durations before
// it end; with durations that are only estimates, the PTS read back drift
// from the packets' even without a gap.
type fmp4Stream struct {
	fc *astiav.FormatContext
	// held is the packet written last, not yet given to the mp4 muxer,
	// its payload in heldData; heldSet says whether it holds one.
	held     *astiav.Packet
	heldData avpkt.Payload
	heldSet  bool
	// step is the last DTS step between two packets, the duration given
	// to a held packet that no packet follows.
	step clock.Ticks
	// params are the parameter sets of the init segment's avcC, each NAL
	// unit without start code: the only ones a sample may repeat (and
	// loses, see sampleData).
	params map[string]bool
	// sample holds the last packet's sample data (sampleData), reused.
	sample []byte
}

// fmp4Options are the mp4 muxer's options: fragmented with an empty moov
// written at the header, tfhd offsets from the moof (default_base_moof,
// as CMAF requires), fragments cut only when told (frag_custom), the
// first fragment's tfdt its DTS (frag_discont), no edit list, the track
// in 90 kHz, no shift of negative timestamps, and CMAF's brand (cmfc).
// Not movflags cmaf: it shifts DTS by the first composition offset
// (negative_cts_offsets), which moved the PTS ffprobe reads back with
// B-frames.
var fmp4Options = map[string]string{
	"movflags":              "+empty_moov+default_base_moof+frag_custom+frag_discont",
	"use_editlist":          "0",
	"video_track_timescale": "90000",
	"avoid_negative_ts":     "disabled",
	"brand":                 "cmfc",
}

// newFMP4Stream writes the init segment of a run whose first segment is
// first and whose first access unit is idr (an IDR with its SPS and PPS
// in front) into the file RunInitName(first) in dir, through its
// temporary name, fsync and rename, makes it the current run's (see
// keepInit), and returns an mp4 muxer writing fragments into out and the
// run whose init segment they play after.
func newFMP4Stream(dir string, first media.Seq, out *astiav.IOContext, size media.Size, fps int, idr []byte) (_ *fmp4Stream, run media.Seq, err error) {
	params := parameterSets(idr)
	if params == nil {
		return nil, 0, errors.New("the first IDR carries no SPS and PPS")
	}
	of := astiav.FindOutputFormat("mp4")
	if of == nil {
		return nil, 0, errNoMP4
	}
	fc, err := astiav.AllocOutputFormatContext(of, "", "")
	if err != nil {
		return nil, 0, fmt.Errorf("alloc format context: %w", err)
	}
	s := &fmp4Stream{fc: fc, held: astiav.AllocPacket(), step: clock.Hz / clock.Ticks(fps), params: map[string]bool{}}
	for _, nal := range annexBUnits(params) {
		s.params[string(nal)] = true
	}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	// Annex B parameter sets: the mp4 muxer writes them as the avcC and
	// turns every packet's start codes into lengths.
	st, err := addVideoStream(fc, size, fps, params)
	if err != nil {
		return nil, 0, err
	}
	init, err := createFile(filepath.Join(dir, media.RunInitName(first)))
	if err != nil {
		return nil, 0, fmt.Errorf("init segment: %w", err)
	}
	defer func() {
		if err != nil {
			init.discard()
		}
	}()
	fc.SetPb(init.out)
	opts := astiav.NewDictionary()
	defer opts.Free()
	for k, v := range fmp4Options {
		if err := opts.Set(k, v, 0); err != nil {
			return nil, 0, fmt.Errorf("option %s: %w", k, err)
		}
	}
	if err := fc.WriteHeader(opts); err != nil {
		return nil, 0, fmt.Errorf("write header: %w", err)
	}
	if tb := st.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return nil, 0, fmt.Errorf("mp4 changed the time base to %d/%d", tb.Num(), tb.Den())
	}
	fc.SetPb(noOutput)
	if _, err := init.commit(func(Step) {}); err != nil {
		return nil, 0, fmt.Errorf("init segment: %w", err)
	}
	if run, err = keepInit(dir, first); err != nil {
		return nil, 0, fmt.Errorf("init segment: %w", err)
	}
	fc.SetPb(out)
	return s, run, nil
}

// write holds p (its payload in pkt) and gives the packet held before it
// to the mp4 muxer, lasting until p's DTS.
func (s *fmp4Stream) write(pkt *astiav.Packet, p media.Packet) error {
	if s.heldSet {
		if d := p.DTS - clock.Ticks(s.held.Dts()); d > 0 {
			s.step = d
		}
		if err := s.writeHeld(p.DTS); err != nil {
			return err
		}
	}
	var err error
	if s.sample, err = s.sampleData(s.sample[:0], avpkt.Bytes(pkt)); err != nil {
		return fmt.Errorf("packet at %s: %w", p.PTS, err)
	}
	if err := s.heldData.Set(s.held, s.sample); err != nil {
		return err
	}
	s.held.SetPts(int64(p.PTS))
	s.held.SetDts(int64(p.DTS))
	s.held.SetStreamIndex(0)
	s.held.SetFlags(astiav.NewPacketFlags())
	if p.Key {
		s.held.SetFlags(s.held.Flags().Add(astiav.PacketFlagKey))
	}
	s.heldSet = true
	return nil
}

// writeHeld gives the held packet to the mp4 muxer, lasting until next
// (or one step, if next does not follow it).
func (s *fmp4Stream) writeHeld(next clock.Ticks) error {
	dts := clock.Ticks(s.held.Dts())
	d := next - dts
	if next <= dts {
		d = s.step
	}
	s.held.SetDuration(int64(d))
	s.heldSet = false
	if err := s.fc.WriteFrame(s.held); err != nil {
		return fmt.Errorf("write packet at %s: %w", clock.Ticks(s.held.Pts()), err)
	}
	return nil
}

// flushFragment writes the held packet, lasting until next (see end),
// and the fragment of every packet written since the last flush (moof and
// mdat) into the current output, and marks the next fragment
// discontinuous so that its tfdt is its first DTS. It is where a
// fragment ends: a segment's end today, a part's too with Low-Latency HLS.
func (s *fmp4Stream) flushFragment(next clock.Ticks) error {
	if s.heldSet {
		if err := s.writeHeld(next); err != nil {
			return err
		}
	}
	if err := s.fc.WriteFrame(nil); err != nil { // av_write_frame(NULL): flush the fragment
		return fmt.Errorf("flush fragment: %w", err)
	}
	return setMuxerOption(s.fc, "movflags", "+frag_discont")
}

// end flushes the segment's last fragment and detaches the output.
func (s *fmp4Stream) end(next clock.Ticks) error {
	err := s.flushFragment(next)
	s.fc.SetPb(noOutput)
	return err
}

// close flushes the last fragment and ends the run; with empty_moov the
// trailer writes nothing more (no mfra: no skip_trailer needed).
func (s *fmp4Stream) close() error {
	err := s.flushFragment(0)
	if err == nil {
		err = s.fc.WriteTrailer()
	}
	s.fc.SetPb(noOutput)
	return err
}

// switchTo makes out the output of the next fragments.
func (s *fmp4Stream) switchTo(out *astiav.IOContext) error {
	s.fc.SetPb(out)
	return nil
}

// free detaches the output without writing to it and frees the muxer and
// the held packet.
func (s *fmp4Stream) free() {
	s.fc.SetPb(noOutput)
	s.fc.Free()
	s.fc = nil
	s.held.Free()
	s.heldData.Free()
}

// parameterSets returns the SPS and PPS NAL units of an Annex B access
// unit, each after a four-byte start code, or nil if it has neither.
func parameterSets(au []byte) []byte {
	var out []byte
	var sps, pps bool
	for _, nal := range annexBUnits(au) {
		switch nal[0] & 0x1f {
		case 7:
			sps = true
		case 8:
			pps = true
		default:
			continue
		}
		out = append(out, 0, 0, 0, 1)
		out = append(out, nal...)
	}
	if !sps || !pps {
		return nil
	}
	return out
}

// sampleData appends to dst the Annex B access unit au without its
// parameter sets (SPS, PPS, SPS extension: NAL types 7, 8, 13), each
// remaining NAL unit after a four-byte start code: CMAF's avc1 sample entry keeps them
// in the avcC only (avc3 is the entry that allows them in band), and the
// mpegts muxer, which needs them before each IDR, is given the encoder's
// packets as they are. A parameter set that is not one of the avcC's
// (a source changing its stream within a run, possible with --codec
// copy) is an error: without it in band, the samples after it would be
// decoded with the avcC's.
func (s *fmp4Stream) sampleData(dst, au []byte) ([]byte, error) {
	out := dst
	for _, nal := range annexBUnits(au) {
		switch t := nal[0] & 0x1f; t {
		case 7, 8, 13:
			if !s.params[string(nal)] {
				return nil, fmt.Errorf("parameter set (NAL type %d) not in the init segment's avcC", t)
			}
			continue
		}
		out = append(out, 0, 0, 0, 1)
		out = append(out, nal...)
	}
	return out, nil
}

// annexBUnits splits an Annex B byte stream into its NAL units, without
// start codes.
func annexBUnits(b []byte) [][]byte {
	var units [][]byte
	start := -1
	for i := 0; i+2 < len(b); i++ {
		if b[i] != 0 || b[i+1] != 0 || b[i+2] != 1 {
			continue
		}
		if start >= 0 {
			units = append(units, trimZeros(b[start:i]))
		}
		start = i + 3
		i += 2
	}
	if start >= 0 && start < len(b) {
		units = append(units, b[start:])
	}
	var out [][]byte
	for _, u := range units {
		if len(u) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// trimZeros drops the zero bytes that end a NAL unit before the next
// start code (a four-byte start code's first, or trailing_zero_8bits).
func trimZeros(u []byte) []byte {
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return u
}

// errNoMP4 is returned if libavformat lacks the mp4 muxer.
var errNoMP4 = errors.New("libavformat has no mp4 muxer")
