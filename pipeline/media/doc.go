// Package media holds the plain values that flow through hlsmark's
// pipeline and out of it: frame sizes, encoded packets, detections, and
// the segments the muxer finishes. It has no cgo, so the packages
// downstream of the encoder (playlist, marker, server) build without libav.
package media
