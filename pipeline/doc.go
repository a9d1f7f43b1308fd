// Package pipeline makes the frames of a stream and encodes them: a source
// paced by the generator clock (package clock) renders frames, the
// detector finds events in their pixels, and the encoder turns them into
// H.264 packets whose PTS is each frame's generator timestamp, exactly.
//
// Data flows one way: Source → Detector → Encoder, and from there to the
// muxer and playlist packages. Run wires the stages with bounded queues.
package pipeline
