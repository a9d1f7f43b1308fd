package marker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// TestStoreKeepsMarkersAcrossRestart closes and reopens the store and
// finds every marker, update and revision as it was.
func TestStoreKeepsMarkersAcrossRestart(t *testing.T) { forEachStore(t, testKeepsMarkersAcrossRestart) }

func testKeepsMarkersAcrossRestart(t *testing.T, st storage) {
	ctx := context.Background()
	s := st.openStore(t)
	var added []marker.Marker
	for i := range 5 {
		m, err := s.Add(ctx, "demo", marker.Marker{Label: "m" + strconv.Itoa(i), PTS: clock.Ticks(1000 * i), Source: marker.FromAPI, Data: []byte(`{"k":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		added = append(added, m)
	}
	if _, err := s.Add(ctx, "other", marker.Marker{Label: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	closed, err := s.Update(ctx, "demo", added[1].ID, func(m *marker.Marker) { m.Duration = 90000 })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = st.openStore(t)
	defer s.Close()
	got, err := s.List(ctx, "demo", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(added) {
		t.Fatalf("after restart %d markers, want %d", len(got), len(added))
	}
	for i, m := range got {
		if m.ID != added[i].ID || m.Label != added[i].Label || m.PTS != added[i].PTS || string(m.Data) != `{"k":1}` {
			t.Errorf("marker %d after restart: %+v, want %+v", i, m, added[i])
		}
	}
	if got[1].Duration != 90000 || got[1].Rev != closed.Rev {
		t.Errorf("update lost: %+v", got[1])
	}
	changes, err := s.Changes(ctx, "demo", added[4].Rev, 100)
	if err != nil || len(changes) != 1 || changes[0].ID != added[1].ID {
		t.Errorf("changes after rev %d: %+v, %v; want only the updated marker", added[4].Rev, changes, err)
	}
	if rev, err := s.Rev(ctx, "demo"); err != nil || rev != closed.Rev {
		t.Errorf("Rev = %d, %v; want %d", rev, err, closed.Rev)
	}
	if _, err := s.Get(ctx, "demo", 99); !errors.Is(err, marker.ErrNotFound) {
		t.Errorf("Get(99) = %v, want ErrNotFound", err)
	}
	if ms, err := s.List(ctx, "nostream", 0, 10); err != nil || len(ms) != 0 {
		t.Errorf("List on an unknown stream = %v, %v", ms, err)
	}
}

// crashChildEnv makes the test binary a writer that prints every marker ID
// the store acknowledged, until it is killed. Its value is the store's
// kind and where its storage is: "bolt /path/markers.db".
const crashChildEnv = "HLSMARK_TEST_STORE_WRITER"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashChildEnv); v != "" {
		os.Exit(writeUntilKilled(v))
	}
	os.Exit(m.Run())
}

func writeUntilKilled(env string) int {
	name, where, _ := strings.Cut(env, " ")
	k, ok := kindNamed(name)
	if !ok {
		fmt.Fprintln(os.Stderr, "no store kind", name)
		return 1
	}
	s, err := k.open(where)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		m, err := s.Add(context.Background(), "demo", marker.Marker{Label: "crash", PTS: clock.Ticks(i)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, m.ID)
		out.Flush()
	}
}

// TestStoreSurvivesKill kills a writing process at random moments, many
// times: each time the store opens, and every marker the killed process
// had been told was stored is there.
func TestStoreSurvivesKill(t *testing.T) { forEachStore(t, testSurvivesKill) }

func testSurvivesKill(t *testing.T, st storage) {
	rng := rand.New(rand.NewPCG(1, 2))
	acked := map[marker.ID]bool{}
	for round := range 8 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+st.name+" "+st.where)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 5 + rng.IntN(60)
		sc := bufio.NewScanner(stdout)
		for n := 0; n < killAfter && sc.Scan(); n++ {
			id, err := strconv.ParseUint(sc.Text(), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			acked[marker.ID(id)] = true
		}
		_ = cmd.Process.Kill() // SIGKILL, mid-write or between writes
		for sc.Scan() {        // acknowledgements already printed count too
			if id, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				acked[marker.ID(id)] = true
			}
		}
		_ = cmd.Wait()

		s := st.openStore(t)
		ms, err := s.List(context.Background(), "demo", 0, 100000)
		if err != nil {
			t.Fatalf("round %d: store unreadable after kill: %v", round, err)
		}
		have := map[marker.ID]bool{}
		for _, m := range ms {
			have[m.ID] = true
		}
		for id := range acked {
			if !have[id] {
				t.Fatalf("round %d: acknowledged marker %d lost", round, id)
			}
		}
		s.Close()
	}
	if len(acked) < 8*5 {
		t.Fatalf("only %d acknowledged writes: the test did not exercise the store", len(acked))
	}
}

// TestStorePurge deletes one stream's markers, across a reopen, and
// leaves another stream's alone; the purged stream numbers from 1 again.
func TestStorePurge(t *testing.T) { forEachStore(t, testPurge) }

func testPurge(t *testing.T, st storage) {
	ctx := context.Background()
	s := st.openStore(t)
	for _, stream := range []string{"gone", "kept"} {
		for i := range 3 {
			if _, err := s.Add(ctx, stream, marker.Marker{Label: stream + strconv.Itoa(i), Source: marker.FromAPI}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Purge(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, "never-was"); err != nil {
		t.Fatalf("purging a stream without markers: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = st.openStore(t)
	defer s.Close()
	if ms, err := s.List(ctx, "gone", 0, 100); err != nil || len(ms) != 0 {
		t.Fatalf("the purged stream lists %d markers (err %v)", len(ms), err)
	}
	if rev, err := s.Rev(ctx, "gone"); err != nil || rev != 0 {
		t.Fatalf("the purged stream's revision is %d (err %v), want 0", rev, err)
	}
	if ms, err := s.List(ctx, "kept", 0, 100); err != nil || len(ms) != 3 {
		t.Fatalf("the other stream lists %d markers (err %v), want its 3", len(ms), err)
	}
	m, err := s.Add(ctx, "gone", marker.Marker{Label: "again", Source: marker.FromAPI})
	if err != nil || m.ID != 1 {
		t.Fatalf("a marker added after the purge has ID %d (err %v), want 1", m.ID, err)
	}
}
