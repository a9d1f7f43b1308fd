package dirlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hlsmark/hlsmark/cmd/hlsmark/internal/dirlock"
)

// TestSecondAcquireFails locks a folder twice: the second Acquire fails at
// once with an InUseError naming this process, until the first lock is
// released; then it succeeds. (cmd/hlsmark tests the same with two
// processes.)
func TestSecondAcquireFails(t *testing.T) {
	dir := t.TempDir()
	first, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dirlock.Acquire(dir)
	var inUse *dirlock.InUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() || inUse.Dir != dir {
		t.Fatalf("second Acquire: %v; want an InUseError naming pid %d", err, os.Getpid())
	}
	want := "data folder " + dir + " in use by another hlsmark, pid " + strconv.Itoa(os.Getpid())
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := again.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestStalePIDIsReplaced starts from a lock file a dead process left (a
// pid, no lock held): Acquire succeeds and writes its own pid.
func TestStalePIDIsReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dirlock.FileName)
	if err := os.WriteFile(path, []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("lock file holds %q (%v), want this process's pid", b, err)
	}
}

// TestMissingFolder fails with an error that is not an InUseError.
func TestMissingFolder(t *testing.T) {
	_, err := dirlock.Acquire(filepath.Join(t.TempDir(), "missing"))
	var inUse *dirlock.InUseError
	if err == nil || errors.As(err, &inUse) {
		t.Fatalf("Acquire of a missing folder: %v", err)
	}
}
