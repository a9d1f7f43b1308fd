package snapshot

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestKeeperBound keeps three pictures with room for two: the oldest goes,
// and a Keeper made again over the folder goes on from what is there.
func TestKeeperBound(t *testing.T) {
	dir := t.TempDir()
	size := media.Size{Width: 64, Height: 48}
	k, err := NewKeeper(KeeperConfig{Dir: dir, Size: size, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	go k.Run()
	f := pipeline.NewFrame(size)
	for _, pts := range []clock.Ticks{3000, 6000} {
		f.PTS = pts
		k.Keep(f)
	}
	k.Close()
	if got := names(t, dir); !slices.Equal(got, []string{"3000.jpg", "6000.jpg"}) {
		t.Fatalf("kept %v", got)
	}
	// A temporary file a crash left goes when the Keeper is made again.
	if err := os.WriteFile(filepath.Join(dir, ThumbsDir, ".12000.jpg.tmp"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err = NewKeeper(KeeperConfig{Dir: dir, Size: size, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	go k.Run()
	f.PTS = 9000
	k.Keep(f)
	k.Close()
	if got := names(t, dir); !slices.Equal(got, []string{"6000.jpg", "9000.jpg"}) {
		t.Fatalf("kept %v after a third with room for two, want the oldest gone", got)
	}
}

// names lists the kept pictures' files.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, ThumbsDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
