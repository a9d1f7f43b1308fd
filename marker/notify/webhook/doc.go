// Package webhook POSTs marker events to URLs (--webhook), signed with a
// shared secret, through a durable outbox.
//
// An event becomes one delivery per URL, written to the outbox (a bucket
// in the marker store's bbolt file) before the change that made it is
// acknowledged. A delivery leaves the outbox when its URL answers 2xx, or
// when it is given up: it is retried with exponential backoff (Backoff,
// doubling to MaxBackoff) until it is MaxAge old. Deliveries of one stream
// to one URL are sent one at a time, in the order they were made: a
// delivery waits for the ones before it. A restart reads the outbox and
// sends what it holds, under the same delivery ids and bodies.
package webhook
