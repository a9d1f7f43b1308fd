package media

import "errors"

// The reasons a stream cannot show a frame as a picture (a thumbnail, a
// frame by its PTS), shared by the code that makes pictures and the server
// that answers for them.
var (
	// ErrFrameGone is for a frame no segment on disk holds any more: it
	// left the window and its grace, or never was.
	ErrFrameGone = errors.New("the frame is no longer on disk")
	// ErrNoFrame is for a PTS inside a segment that is no frame's.
	ErrNoFrame = errors.New("no frame at that pts")
)
