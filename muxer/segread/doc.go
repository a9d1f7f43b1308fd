// Package segread reads back the segments the muxer wrote, with libav:
// MPEG-TS files, and fMP4 media segments after their init segment. Open
// demuxes a segment's video packets (MP4 clips copy them); Decode and
// DecodeSegment decode its pictures. Tests use it as an independent reader
// of what the muxer wrote: it trusts nothing but the file. Package
// snapshot decodes segments with it too, for pictures of frames; the tests
// of those pictures check them with the ffmpeg CLI instead.
package segread
