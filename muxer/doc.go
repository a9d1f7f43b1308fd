// Package muxer cuts a stream of H.264 packets into MPEG-TS segment files
// with libavformat's mpegts muxer, or, with Config.Format media.FMP4, into
// fragmented MP4 (CMAF) with its mp4 muxer: an init segment, then media
// segments of movie fragments with exact PTS (see fmp4Stream).
//
// A segment starts at an IDR once the previous one has reached the target
// duration. One mpegts muxer writes segment after segment, its output
// switched from file to file at each cut as libavformat's hls muxer does,
// so that every PID's continuity counter goes on across segment
// boundaries, as RFC 8216 section 3 requires: a player reads consecutive
// segments as one transport stream. Each segment still begins with SDT,
// PAT and PMT, then an IDR, and can be played on its own.
//
// A segment that cannot be written is dropped, and the mpegts muxer that
// counted its packets with it. The next segment, like the first one after
// a restart, starts a new mpegts muxer: its counters start again at 0 with
// the discontinuity indicator on the first packet of every PID, and it is
// marked Discontinuity for the playlist.
//
// A segment's file is written under a temporary name, flushed to disk and
// renamed into place only when complete, so a reader never sees half a
// segment. The PTS inside the TS is the packet's PTS unchanged
// (mpegts_copyts), so the generator's timestamps are the ones a player
// decodes.
//
// The libav muxer behind both is a container (container.go): the Muxer
// decides where segments start and end, the container writes them.
package muxer
