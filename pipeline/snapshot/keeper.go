package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/durable"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// ThumbsDir is the folder, inside a stream's folder, of the pictures the
// Keeper keeps: one file a frame, named for its PTS (in ticks, unwrapped)
// and ".jpg". Purging the stream deletes it with the folder.
const ThumbsDir = "thumbs"

// DefaultMaxKept is how many pictures a Keeper keeps by default: the
// oldest go first beyond it (about 100 MB of 1280x720 frames). A marker
// whose picture went is pictured from its segment while that is on disk.
const DefaultMaxKept = 1000

// keepDepth is how many frames may wait for the Keeper's encoder. When all
// are taken, Keep drops the frame and counts it (Dropped): the source's
// real-time schedule comes first, and the marker's frame is then decoded
// from its segment when asked for.
const keepDepth = 2

// KeeperConfig configures a Keeper.
type KeeperConfig struct {
	// Dir is the stream's folder; the pictures go in Dir/ThumbsDir.
	Dir string
	// Size is the size of the frames.
	Size media.Size
	// Max bounds the pictures kept; 0 means DefaultMaxKept.
	Max int
	// OnError, if set, is told of a picture that could not be kept.
	OnError func(pts clock.Ticks, err error)
}

// Keeper keeps a JPEG of the frames in which the detector saw an event
// open, made from the source's own picture, encoded and written durably
// on the Keeper's goroutine (Run). Keep is called from the source's
// goroutine; Close after the last Keep.
type Keeper struct {
	cfg     KeeperConfig
	dir     string
	jobs    chan keepJob
	spare   chan []byte
	done    chan struct{}
	dropped atomic.Uint64

	mu      sync.Mutex
	pending map[clock.Ticks]chan struct{} // queued, closed once written (or failed)
	kept    []clock.Ticks                 // on disk, oldest first; Run's alone
}

type keepJob struct {
	pts clock.Ticks
	bgr []byte
}

// NewKeeper makes the pictures' folder if needed and takes stock of what
// an earlier run kept there.
func NewKeeper(cfg KeeperConfig) (*Keeper, error) {
	if cfg.Max == 0 {
		cfg.Max = DefaultMaxKept
	}
	k := &Keeper{cfg: cfg, dir: filepath.Join(cfg.Dir, ThumbsDir),
		jobs: make(chan keepJob, keepDepth), spare: make(chan []byte, keepDepth), done: make(chan struct{}),
		pending: map[clock.Ticks]chan struct{}{}}
	if err := os.MkdirAll(k.dir, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if pts, ok := parseName(name); ok {
			k.kept = append(k.kept, pts)
		} else if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".jpg.tmp") {
			// Half written when a crash came (durable.WriteFile's temporary).
			if err := os.Remove(filepath.Join(k.dir, name)); err != nil {
				return nil, fmt.Errorf("snapshot: %w", err)
			}
		}
	}
	slices.Sort(k.kept)
	for range keepDepth {
		k.spare <- make([]byte, cfg.Size.Width*cfg.Size.Height*3)
	}
	return k, nil
}

// pictureName is the file name of the kept picture of the frame at pts.
func pictureName(pts clock.Ticks) string {
	return strconv.FormatInt(int64(pts), 10) + ".jpg"
}

// parseName is the inverse of pictureName.
func parseName(name string) (clock.Ticks, bool) {
	digits, ok := strings.CutSuffix(name, ".jpg")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != digits {
		return 0, false
	}
	return clock.Ticks(n), true
}

// Keep queues a copy of f's picture to be kept: call it with the frame of
// an Opened detection, before the marker is made, so that a request for
// the marker's thumbnail finds it kept or pending. It never blocks: with
// keepDepth frames already waiting it drops f and counts it.
func (k *Keeper) Keep(f *pipeline.Frame) {
	if f.Size != k.cfg.Size || len(f.BGR) < k.cfg.Size.Width*k.cfg.Size.Height*3 || len(f.Coded) > 0 {
		k.dropped.Add(1) // not a picture of the stream's size
		return
	}
	var buf []byte
	select {
	case buf = <-k.spare:
	default:
		k.dropped.Add(1)
		return
	}
	copy(buf, f.BGR)
	k.mu.Lock()
	if _, dup := k.pending[f.PTS]; !dup {
		k.pending[f.PTS] = make(chan struct{})
	}
	k.mu.Unlock()
	k.jobs <- keepJob{pts: f.PTS, bgr: buf} // never blocks: there are only keepDepth buffers
}

// Dropped counts the frames Keep dropped.
func (k *Keeper) Dropped() uint64 { return k.dropped.Load() }

// Run encodes and writes the queued pictures until Close.
func (k *Keeper) Run() {
	defer close(k.done)
	for j := range k.jobs {
		err := k.write(j)
		k.spare <- j.bgr
		k.mu.Lock()
		if ch, ok := k.pending[j.pts]; ok {
			close(ch)
			delete(k.pending, j.pts)
		}
		k.mu.Unlock()
		if err != nil && k.cfg.OnError != nil {
			k.cfg.OnError(j.pts, err)
		}
	}
}

// Close stops Run once it has written what was queued, and waits for it.
// Call it after the last Keep, and only if Run was started.
func (k *Keeper) Close() {
	close(k.jobs)
	<-k.done
}

// write encodes one picture, writes it durably and deletes the oldest
// beyond Max.
func (k *Keeper) write(j keepJob) error {
	// Through YUV420P as the encoder takes it: the picture shows the
	// frame as the stream does (its colours limited range, its chroma
	// halved), not as the source drew it.
	yuv, err := pipeline.Scale(pipeline.BGR24, k.cfg.Size, j.bgr, pipeline.YUV420P, k.cfg.Size)
	if err != nil {
		return fmt.Errorf("snapshot: keep pts %d: %w", j.pts, err)
	}
	img, err := pipeline.ToRGBA(pipeline.YUV420P, k.cfg.Size, yuv, k.cfg.Size)
	if err != nil {
		return fmt.Errorf("snapshot: keep pts %d: %w", j.pts, err)
	}
	data, err := encodeJPEG(img)
	if err != nil {
		return fmt.Errorf("snapshot: keep pts %d: %w", j.pts, err)
	}
	if err := durable.WriteFile(filepath.Join(k.dir, pictureName(j.pts)), data, 0o644); err != nil {
		return fmt.Errorf("snapshot: keep pts %d: %w", j.pts, err)
	}
	if i, found := slices.BinarySearch(k.kept, j.pts); !found {
		k.kept = slices.Insert(k.kept, i, j.pts)
	}
	var errs []error
	for len(k.kept) > k.cfg.Max {
		if err := os.Remove(filepath.Join(k.dir, pictureName(k.kept[0]))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("snapshot: delete kept picture: %w", err))
		}
		k.kept = k.kept[1:]
	}
	return errors.Join(errs...)
}

// wait returns a channel closed once the picture of the frame at pts is
// written (or failed), or nil if none is pending.
func (k *Keeper) wait(pts clock.Ticks) <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pending[pts]
}
