//go:build cgo

// Package live runs hlsmark inside a Go program: the program renders its
// own frames and hands them over with its own PTS (Stream.Push,
// Stream.PushImage), adds markers at the PTS of the frames where its
// events happen (Stream.AddMarker), and mounts hlsmark's HTTP handler in
// its own server (Stream.Handler): the same player, HLS playlist and
// segments, marker API, Server-Sent Events and metrics as `hlsmark
// serve`, built by the same stages (package stream, package server). It
// encodes with FFmpeg's libraries, so it builds with cgo only (as `make
// test`'s run without cgo over server/... skips it).
//
//	s, err := live.Start(ctx, live.Config{Data: dir, Size: media.Size{Width: 640, Height: 360}})
//	if err != nil { ... }
//	defer s.Close() // the last segment written, the playlist ended (EXT-X-ENDLIST)
//	http.Handle("/", s.Handler())
//	err = s.Push(ctx, pts, pix)    // []byte in Config.PixFmt, pts in 90 kHz ticks
//	err = s.PushImage(ctx, pts, img) // or an image.Image
//	m, err := s.AddMarker(ctx, live.Marker{PTS: pts, Label: "goal"})
//
// A frame's PTS is the program's, kept tick for tick (as `--input-format
// framed` keeps a producer's): every PTS must rise past the previous
// frame's, and the stream's timeline maps it to wall-clock time (PTS 0 is
// the stream's epoch, kept in its folder). Pushing is paced by the
// program, not by a clock: Push returns once the frame is in the
// pipeline's bounded queue (four frames), and blocks while that queue is
// full, so a program pushing faster than real time is slowed to the
// encoder's speed and no accepted frame is ever dropped. A program that
// stops pushing makes no frames: the segment under way is written when
// frames come again or at Close, and after three target durations without
// a segment /readyz answers 503 (stalled) until they do. A program
// started again on the same Data must carry on past the PTS it pushed
// before (or use a new folder): hlsmark does not check them against an
// earlier run yet.
package live
