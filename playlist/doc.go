// Package playlist keeps a live HLS media playlist (RFC 8216) over a sliding
// window of segments, encoded with github.com/grafov/m3u8.
//
// The window is sized by duration: it is the DVR range a viewer can seek back
// in. Segments leaving it are deleted from disk after a grace period, so a
// client that read an older playlist can still fetch them. The playlist also
// answers where a PTS lies in the stream (which segment, at what offset),
// and carries EXT-X-DATERANGE tags for the stream's markers.
package playlist
