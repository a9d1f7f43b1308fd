package muxer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"

	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// keepInit makes the init segment just written as media.RunInitName(first)
// in dir the current run's, media.InitName, and returns the run whose init
// segment the new run's segments play after.
//
// That is an earlier run when InitName is that run's file (a hard link)
// with the same bytes, as after a restart with the same picture size and
// encoder: the new file goes, and the EXT-X-MAP already served for the
// earlier run's segments stays as it was (RFC 8216, section 6.2.1 lets a
// server append to a playlist, not change it). Otherwise the new run is
// first, and its file becomes InitName; the playlists then name the
// earlier runs' init segments by their own names.
func keepInit(dir string, first media.Seq) (media.Seq, error) {
	path := filepath.Join(dir, media.RunInitName(first))
	if run, ok, err := sameRun(dir, path); err != nil || ok {
		if ok {
			err = errors.Join(os.Remove(path), durable.SyncDir(dir))
		}
		return run, err
	}
	return first, linkAs(path, filepath.Join(dir, media.InitName))
}

// sameRun returns the run whose init segment media.InitName in dir is, if
// it is one and its bytes are those of the file at path.
func sameRun(dir, path string) (media.Seq, bool, error) {
	current := filepath.Join(dir, media.InitName)
	cur, err := os.Stat(current)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, false, err
	}
	for _, e := range entries {
		run, ok := media.ParseRunInitName(e.Name())
		if !ok || e.Name() == filepath.Base(path) {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !os.SameFile(fi, cur) {
			continue
		}
		a, err := os.ReadFile(current)
		if err != nil {
			return 0, false, err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, false, err
		}
		return run, bytes.Equal(a, b), nil
	}
	return 0, false, nil
}

// linkAs gives the file at path the name as too, replacing what had it
// at once: a hard link under as's temporary name, renamed, and the folder
// synced.
func linkAs(path, as string) error {
	tmp := tmpName(as)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Link(path, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, as); err != nil {
		os.Remove(tmp)
		return err
	}
	return durable.SyncDir(filepath.Dir(as))
}
