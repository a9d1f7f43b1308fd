// Package clip cuts MP4 clips of a stream's segments on disk: the H.264
// packets are copied from the MPEG-TS segments, never re-encoded.
//
// A clip runs from the first frame at or after its start to the last
// frame before its end. Decoding that first frame needs the packets from
// the keyframe at or before it, so the copy begins at that keyframe; the
// packets before the start get negative timestamps, and libavformat's mp4
// muxer (use_editlist, avoid_negative_ts disabled) writes an edit list
// whose media time is the start frame's: players decode the head but
// present nothing before the start frame. Timestamps keep the stream's
// 90 kHz ticks (video_track_timescale 90000), relative to the start frame,
// so the clip's frames keep their spacing exactly. The moov box comes
// before mdat (faststart), which needs the output to be a file that can be
// read back.
//
// A clip never crosses a discontinuity (EXT-X-DISCONTINUITY: a restart, a
// reconnection, a lost segment): it ends at the last frame before it, as
// it ends at the newest segment on disk. With B-frames (--bframes) a clip
// ends at the first packet, in decoding order, whose frame is at or after
// its end, so it may lack the last few frames before the end rather than
// show one after it.
package clip
