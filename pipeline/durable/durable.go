// Package durable writes the small files that hold hlsmark's state (the
// playlist, its state file, a stream's epoch) so that neither a reader nor
// a crash, of the process or of the machine, ever finds one half written
// or lost after it was reported written.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data, durably: data goes into a
// temporary file in the same folder, which is fsynced, renamed over path,
// and then the folder is fsynced so the rename itself survives a power
// cut. A reader sees the old file or the new one, never a mix; after a
// crash the file is the old or the new one, whole. The temporary file is
// named after path with a leading dot and a ".tmp" suffix; a crash can
// leave it behind, and the next WriteFile of the same path replaces it.
//
// WriteFile is not safe for concurrent calls on the same path.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := writeSynced(tmp, data, perm); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeSynced creates (or truncates) the file at path, writes data and
// fsyncs it before closing.
func writeSynced(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a folder, so that the names created, renamed or removed
// in it are on stable storage.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
