package pipeline

import "github.com/hlsmark/hlsmark/pipeline/clock"

// Start is what a stream tells the source it opens.
type Start struct {
	// Clock paces the source (and stamps its frames, if it does).
	Clock clock.Clock
	// Timeline maps the stream's PTS to wall-clock time.
	Timeline clock.Timeline
	// Resume is where the segments an earlier run of the stream recorded
	// end, 0 for a new stream: no frame may come before it, so that PTS
	// never go back across a restart.
	Resume clock.Ticks
	// Dir is the stream's folder, where a source keeps what a restart
	// goes on from (a decoded input's timestamp mapping: MappingFile);
	// empty keeps nothing.
	Dir string
}
