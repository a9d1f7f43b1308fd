// Package web is hlsmark's browser player: two pages, plain HTML, CSS and
// ES modules, embedded in the binary so that it works offline. The player
// plays a stream with hls.js (or Safari's native HLS), draws the DVR window
// as a timeline with the stream's markers on it, lists the markers beside
// the video, seeks to a marker's exact frame, and switches between the
// server's streams with a picker. The overview shows a small muted live
// player per stream with its latest markers.
//
// The pages' pure functions (time formatting, a marker's place on the
// player's clock, the timeline's geometry, gaps at discontinuities, which
// markers to keep, the stream a URL names) live in static/js/core.js, which touches no DOM, so
// that `npm test` runs node's test runner on them (jstest/). The Go tests
// here drive the whole page in headless Chromium against a real server.
//
// hls.js is not in the repository: `make web` copies the version pinned in
// package-lock.json to static/vendor/hls.min.js before the build. Without
// it the package still compiles, and the page says what is missing.
package web
