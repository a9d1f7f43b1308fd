// Package stream wires one live stream end to end: source → detector →
// encoder → muxer → playlist, with the marker service that places the
// detector's events and posted markers in it. It is the one wiring that
// `hlsmark serve`, `hlsmark bench` and the tests all run, so what the tests
// prove is what the server does.
package stream
