// Package dirlock gives one process a folder to itself: a lock file in the
// folder, held with flock(2) for as long as the process runs. The kernel
// drops the lock when the process ends, however it ends, so a crashed
// process never leaves the folder locked.
package dirlock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FileName is the lock file's name in the folder. It holds the process
// ID of the holder, for the message a second process prints.
const FileName = "hlsmark.lock"

// InUseError says that another process holds the folder.
type InUseError struct {
	Dir string
	// PID is the holder's process ID, or 0 if it could not be read.
	PID int
}

func (e *InUseError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("data folder %s in use by another hlsmark", e.Dir)
	}
	return fmt.Sprintf("data folder %s in use by another hlsmark, pid %d", e.Dir, e.PID)
}

// Lock is a held folder lock.
type Lock struct {
	f *os.File
}

// Acquire locks dir, which must exist, without waiting: if another
// process (or another Lock in this one) holds it, the error is an
// *InUseError naming the holder's process ID.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &InUseError{Dir: dir, PID: readPID(f)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		f.Close() // closing the file drops the lock
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock. The lock file stays: removing it could let two
// processes lock two different files of the same name.
func (l *Lock) Release() error {
	return l.f.Close()
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's process ID, or returns 0 if the file does not
// hold one (the holder may be between its truncation and its write).
func readPID(f *os.File) int {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
