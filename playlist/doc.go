// Package playlist keeps a live HLS media playlist (RFC 8216) over a sliding
// window of segments.
//
// The window is sized by duration: it is the DVR range a viewer can seek back
// in. Segments leaving it are deleted from disk after a grace period, so a
// client that read an older playlist can still fetch them. The playlist also
// answers where a PTS lies in the stream (which segment, at what offset),
// and carries EXT-X-DATERANGE tags for the stream's markers.
//
// The playlist follows the live rules of RFC 8216, section 6.2.1: it only
// grows at its end and loses lines at its head, so no line once served
// changes while it is listed (a date range whose duration becomes known
// gets a second tag, see ranges.go); EXT-X-TARGETDURATION never changes.
// Changes are made in memory; a writer goroutine writes them to disk
// (durably, coalesced) and only then publishes them to readers, so neither
// the segment publisher nor an HTTP reader ever waits for the disk.
package playlist
