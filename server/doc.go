// Package server is hlsmark's HTTP interface: the HLS playlist and segments
// of each stream, health, and (in the files named for them) the marker API
// and the web player. Routing is github.com/gorilla/mux.
package server
