// Package postgres keeps markers in PostgreSQL: a marker.Store that
// several hlsmark nodes share, with the database's LISTEN/NOTIFY telling
// every node of every change.
//
// Layout: marker_streams holds one row per stream with its last ID and
// last revision; markers holds each marker once, at its latest revision,
// a deleted one as a tombstone (deleted true), as the bbolt store does.
// Every write takes the stream's row lock first (the UPDATE or upsert of
// its counters) and keeps it until it commits, so the writes to one
// stream are serialised across every node: revisions and IDs are
// gap-free (a write that fails rolls its counter back) and committed in
// their order, so a reader that sees revision n sees every one below it.
//
// A trigger on markers NOTIFYs every change (stream and revision, as
// JSON) on channel hlsmark_markers when its transaction commits, whoever
// wrote it; Listen follows the channel.
//
// The schema is made and migrated by Open (see schema.go).
package postgres
