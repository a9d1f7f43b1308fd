// Package snapshot makes JPEG pictures of a stream's frames: the
// thumbnail of a marker and any frame still on disk, by its PTS or by the
// time it showed.
//
// A detector's event is pictured from the very frame the detector saw:
// the Keeper encodes it off the source's goroutine and keeps it in the
// stream's folder (thumbs/PTS.jpg), no decoding needed. Any other frame
// (a posted marker's, GET frame.jpg) is decoded from the segment that holds
// it, found through the playlist. Pictures are encoded by Go's image/jpeg
// at Quality, scaled (?width) and converted to RGB by swscale
// (pipeline.ToRGBA).
package snapshot
