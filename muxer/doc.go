// Package muxer cuts a stream of H.264 packets into MPEG-TS segment files
// with libavformat's mpegts muxer.
//
// A segment starts at an IDR once the previous one has reached the target
// duration. Its file is written under a temporary name and renamed into
// place only when complete, so a reader never sees half a segment. The PTS
// inside the TS is the packet's PTS unchanged (mpegts_copyts), so the
// generator's timestamps are the ones a player decodes.
package muxer
