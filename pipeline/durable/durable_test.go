package durable_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/durable"
)

// TestWriteFileReplaces writes a file twice: each time the file holds
// exactly what was written, with the permissions asked for, and no
// temporary file is left in the folder.
func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, data := range [][]byte{[]byte("first, and longer than the second"), []byte("second")} {
		if err := durable.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("file holds %q (%v), want %q", got, err, data)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
			t.Fatalf("mode %v (%v), want 0640", fi.Mode(), err)
		}
		checkOnly(t, dir, "state.json")
	}
}

// TestWriteFileFailureKeepsOld makes the rename fail (a folder stands where
// the file goes): WriteFile says so, naming the file, and removes its
// temporary file; what stood there is untouched.
func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.m3u8")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inside"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := durable.WriteFile(path, []byte("new"), 0o644)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteFile over a folder: %v; want an error naming %s", err, path)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Fatalf("the folder is gone: %v", err)
	}
	checkOnly(t, dir, "index.m3u8")
	if err := durable.WriteFile(filepath.Join(dir, "missing", "f"), nil, 0o644); err == nil {
		t.Fatal("WriteFile into a missing folder succeeded")
	}
}

// checkOnly requires dir to hold exactly the named entries.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("folder holds %q, want %q", got, names)
	}
}

// writerEnv makes the test binary a process that rewrites one file with
// WriteFile until it is killed, printing each version once WriteFile has
// returned.
const writerEnv = "HLSMARK_TEST_DURABLE_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		os.Exit(writeUntilKilled(path))
	}
	os.Exit(m.Run())
}

// version is the content of version n: a header line naming n, then
// enough bytes of one value that a write takes several system calls'
// worth of time.
func version(n int) []byte {
	header := fmt.Sprintf("version %d\n", n)
	return append([]byte(header), bytes.Repeat([]byte{byte('a' + n%26)}, 4<<20)...)
}

func writeUntilKilled(path string) int {
	out := bufio.NewWriter(os.Stdout)
	for n := 1; ; n++ {
		if err := durable.WriteFile(path, version(n), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, n)
		out.Flush()
	}
}

// TestWriteFileSurvivesKill kills a process rewriting a file at random
// moments: each time, the file is one whole version, never a mix or a
// truncation, and no older than the last version the process was told
// was written.
func TestWriteFileSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epoch")
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := 0
		sc := bufio.NewScanner(stdout)
		for n := 0; n < 1+rng.IntN(5) && sc.Scan(); n++ {
			acked, _ = strconv.Atoi(sc.Text())
		}
		// Kill at a random moment of the next write: its truncation,
		// its data, its fsync, its rename.
		time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
		_ = cmd.Process.Kill()
		for sc.Scan() {
			acked, _ = strconv.Atoi(sc.Text())
		}
		_ = cmd.Wait()
		if acked == 0 {
			t.Fatalf("round %d: the writer acknowledged nothing", round)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var n int
		if _, err := fmt.Sscanf(string(got), "version %d\n", &n); err != nil || !bytes.Equal(got, version(n)) {
			t.Fatalf("round %d: the file is not one whole version (%d bytes, header %q)", round, len(got), got[:min(len(got), 20)])
		}
		if n < acked {
			t.Fatalf("round %d: the file holds version %d, but version %d was acknowledged", round, n, acked)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}
