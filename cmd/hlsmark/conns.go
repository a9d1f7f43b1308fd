package main

import "golang.org/x/sys/unix"

// fdReserve is how many file descriptors are kept from HTTP connections
// for everything else: the segment being written, the playlist and its
// state, the marker store, libav, the segments being served.
const fdReserve = 64

// raiseFileLimit raises the soft limit on open files to the hard limit,
// and returns the soft limit in force.
func raiseFileLimit() (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	return lim.Cur, nil
}

// connLimit returns how many HTTP connections to allow at once: n if set,
// or else half of what the file limit leaves past the reserve, since a
// connection serving a segment holds two descriptors (the socket and the
// file). At least 16.
func connLimit(n int, fileLimit uint64) int {
	if n > 0 {
		return n
	}
	if fileLimit < 2*16+fdReserve {
		return 16
	}
	return int(min((fileLimit-fdReserve)/2, 1<<20))
}
