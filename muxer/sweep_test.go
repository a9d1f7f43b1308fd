package muxer_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// casesSweep are stream folders left by an earlier run: Sweep must remove
// the segments and the temporary segment files, leave everything else, and
// continue the sequence past the highest segment.
var casesSweep = []struct {
	name  string
	files []string
	next  media.Seq
	kept  []string
}{
	{"empty", nil, 0, nil},
	{
		"segments and temporaries",
		[]string{"3.ts", "7.ts", "12.ts", ".12.ts.tmp", ".13.ts.tmp"},
		13, nil,
	},
	{
		"highest is not the newest name",
		[]string{"9.ts", "10.ts", "100.ts", "99.ts"},
		101, nil,
	},
	{
		"only a temporary file",
		[]string{".4.ts.tmp"},
		0, nil,
	},
	{
		"other files stay",
		[]string{"0.ts", "index.m3u8", ".index.m3u8.tmp", "markers.db", "007.ts", "5.ts.tmp", "notes.txt"},
		1, []string{".index.m3u8.tmp", "007.ts", "5.ts.tmp", "index.m3u8", "markers.db", "notes.txt"},
	},
	{
		"fmp4 segments and temporaries, init kept",
		[]string{"init.mp4", "3.m4s", "8.m4s", ".9.m4s.tmp", ".init.mp4.tmp", "4.m4s.tmp"},
		9, []string{"4.m4s.tmp", "init.mp4"},
	},
	{
		"largest sequence number",
		[]string{"18446744073709551614.ts"},
		18446744073709551615, nil,
	},
}

func TestSweep(t *testing.T) {
	for _, c := range casesSweep {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range c.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			swept, err := muxer.Sweep(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if swept.Next != c.next {
				t.Errorf("next sequence number %d, want %d", swept.Next, c.next)
			}
			if len(swept.Removed)+len(c.kept) != len(c.files) {
				t.Errorf("reports %q removed of %q, keeping %q", swept.Removed, c.files, c.kept)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(entries); !slices.Equal(got, c.kept) {
				t.Errorf("left %q, want %q", got, c.kept)
			}
			for _, name := range c.kept {
				if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(data) != name {
					t.Errorf("%s changed: %q, %v", name, data, err)
				}
			}
		})
	}
}

func TestSweepMissingFolder(t *testing.T) {
	if _, err := muxer.Sweep(filepath.Join(t.TempDir(), "absent"), nil); err == nil {
		t.Fatal("Sweep of a missing folder succeeded")
	}
}

// TestSweepKeepsClaimedSegments keeps the segments a restored playlist
// still lists and still counts them for the next sequence number.
func TestSweepKeepsClaimedSegments(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"3.ts", "4.ts", "5.ts", ".6.ts.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	swept, err := muxer.Sweep(dir, func(s media.Seq) bool { return s >= 4 })
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if got := names(entries); swept.Next != 6 || !slices.Equal(got, []string{"4.ts", "5.ts"}) {
		t.Fatalf("next %d, left %q; want 6 and [4.ts 5.ts]", swept.Next, got)
	}
	if !slices.Equal(swept.Removed, []string{".6.ts.tmp", "3.ts"}) {
		t.Fatalf("reports %q removed, want [.6.ts.tmp 3.ts]", swept.Removed)
	}
}
