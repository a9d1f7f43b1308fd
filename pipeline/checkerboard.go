package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// Mint is the colour of an event block, RGB (0, 255, 200).
var Mint = [3]byte{0, 255, 200}

// minEventGap is the least time between one event's end and the next one's
// start, so that two events are never seen as one.
const minEventGap = time.Second

// CheckerboardConfig configures the checkerboard source.
type CheckerboardConfig struct {
	Size  media.Size
	FPS   int
	Block int // side of a checkerboard square, in pixels
	// EventEvery is the mean time from one event's start to the next one's.
	EventEvery time.Duration
	// EventDuration is how long a mint block stays visible.
	EventDuration time.Duration
	// EventFixed makes events exactly periodic (at EventEvery, 2×EventEvery,
	// ...) instead of exponentially spaced.
	EventFixed bool
	// Seed seeds the random event times and positions.
	Seed uint64
	// Stamp draws each frame's PTS as a strip across the top of the
	// picture (see package stamp), over the board and any event.
	Stamp bool
}

// MinBlock is the smallest checkerboard square, in pixels: the detector
// samples every MinBlock pixels, so it sees every mint square at least this
// big.
const MinBlock = detectorStep

// DefaultCheckerboardConfig returns the checkerboard `hlsmark serve` and
// `hlsmark bench` stream at size s unless told otherwise: 30 fps, squares a
// ninth of the height (at least MinBlock), an event every 20 s on average
// lasting 2 s, seed 1.
func DefaultCheckerboardConfig(s media.Size) CheckerboardConfig {
	return CheckerboardConfig{
		Size:          s,
		FPS:           30,
		Block:         max(MinBlock, s.Height/9),
		EventEvery:    20 * time.Second,
		EventDuration: 2 * time.Second,
		Seed:          1,
	}
}

// Validate reports the first configuration error, naming the setting.
func (c CheckerboardConfig) Validate() error {
	if err := c.Size.Validate(); err != nil {
		return err
	}
	switch {
	case c.FPS < 1 || c.FPS > 240:
		return fmt.Errorf("fps %d: must be from 1 to 240", c.FPS)
	case c.Block < MinBlock || c.Block > c.Size.Width || c.Block > c.Size.Height:
		return fmt.Errorf("block %d: must be at least %d pixels and fit in %s", c.Block, MinBlock, c.Size)
	case c.EventDuration <= 0:
		return fmt.Errorf("event-duration %s: must be positive", c.EventDuration)
	case c.EventEvery < c.EventDuration+minEventGap:
		return fmt.Errorf("event-every %s: must be at least event-duration (%s) plus %s", c.EventEvery, c.EventDuration, minEventGap)
	}
	if c.Stamp {
		return stamp.Validate(c.Size)
	}
	return nil
}

// Event is one mint-block event as the generator made it: the ground truth
// that detector tests compare against.
type Event struct {
	ID int
	// FirstPTS is the PTS of the first frame showing the block.
	FirstPTS clock.Ticks
	// EndPTS is the PTS of the first frame after it no longer shows, or 0
	// while it is still visible.
	EndPTS clock.Ticks
	// Col and Row are the block's cell on screen.
	Col, Row int
}

// scheduledEvent is an event on the generator's timeline, before any frame
// has shown it.
type scheduledEvent struct {
	start, end clock.Ticks
	col, row   int
}

// Checkerboard is a real-time source of a rolling black-and-white
// checkerboard in which, now and then, one square turns mint.
type Checkerboard struct {
	cfg      CheckerboardConfig
	clk      clock.Clock
	timeline clock.Timeline
	rng      *rand.Rand

	n        int64 // index of the next frame on the nominal schedule
	started  bool
	lastPTS  clock.Ticks
	late     atomic.Uint64
	next     scheduledEvent
	rowEven  []byte // a row of the board whose first cell row is white-first
	rowOdd   []byte
	rowShift int // roll offset rowEven/rowOdd were drawn for, or -1

	mu     sync.Mutex
	events []Event
}

// NewCheckerboard returns a checkerboard source paced by clk, whose PTS 0 is
// timeline.Epoch.
func NewCheckerboard(cfg CheckerboardConfig, clk clock.Clock, timeline clock.Timeline) (*Checkerboard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Checkerboard{
		cfg:      cfg,
		clk:      clk,
		timeline: timeline,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		rowEven:  make([]byte, cfg.Size.Width*3),
		rowOdd:   make([]byte, cfg.Size.Width*3),
		rowShift: -1,
	}
	// Start on the nominal schedule at the clock's present: a stream that
	// resumes on an old epoch neither renders its past nor counts it late.
	since := clk.Now().Sub(timeline.Epoch)
	fps := int64(cfg.FPS)
	c.n = int64(since/time.Second)*fps + (int64(since%time.Second)*fps+int64(time.Second)-1)/int64(time.Second)
	c.next = c.schedule(clock.FromDuration(since))
	return c, nil
}

// Size returns the frame size.
func (c *Checkerboard) Size() media.Size { return c.cfg.Size }

// FPS returns the nominal frame rate.
func (c *Checkerboard) FPS() int { return c.cfg.FPS }

// Late returns how many frames were dropped because the source fell more
// than catchUp behind its schedule.
func (c *Checkerboard) Late() uint64 { return c.late.Load() }

// Events returns a copy of the events shown so far.
func (c *Checkerboard) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// schedule picks the event that follows one that started at prevStart.
func (c *Checkerboard) schedule(prevStart clock.Ticks) scheduledEvent {
	every := c.cfg.EventEvery
	if !c.cfg.EventFixed {
		// Exponential spacing with mean EventEvery, never closer than the
		// event's own duration plus minEventGap.
		floor := c.cfg.EventDuration + minEventGap
		every = floor + time.Duration(c.rng.ExpFloat64()*float64(c.cfg.EventEvery-floor))
	}
	start := prevStart + clock.FromDuration(every)
	return scheduledEvent{
		start: start,
		end:   start + clock.FromDuration(c.cfg.EventDuration),
		col:   c.rng.IntN(c.cfg.Size.Width / c.cfg.Block),
		row:   c.rng.IntN(c.cfg.Size.Height / c.cfg.Block),
	}
}

// due returns when frame n is due on the nominal schedule.
func (c *Checkerboard) due(n int64) time.Time {
	fps := int64(c.cfg.FPS) // split so that n × 1e9 cannot overflow
	return c.timeline.Epoch.Add(time.Duration(n/fps)*time.Second + time.Duration(n%fps*int64(time.Second)/fps))
}

// catchUp is how far behind its schedule the source may fall and still make
// every frame: a wake-up delayed by a busy scheduler or a GC pause is caught
// up by rendering the next frames at once (each still stamped with the
// clock's reading). Beyond it, the frames missed are dropped.
const catchUp = 100 * time.Millisecond

// Next waits for the next frame's time, then renders it into f and stamps it
// with the generator clock's reading. If the source has fallen more than
// catchUp behind, the frames it missed are dropped (and counted by Late)
// instead of being rendered in a burst.
func (c *Checkerboard) Next(ctx context.Context, f *Frame) error {
	if f.Size != c.cfg.Size {
		return errors.New("checkerboard: frame size differs from source size")
	}
	if err := c.clk.WaitUntil(ctx, c.due(c.n)); err != nil {
		return err
	}
	now := c.clk.Now()
	if lag := now.Sub(c.due(c.n)); lag > catchUp {
		behind := int64(lag) * int64(c.cfg.FPS) / int64(time.Second)
		c.late.Add(uint64(behind))
		c.n += behind
	}
	c.n++
	pts := c.timeline.PTS(now)
	if c.started && pts <= c.lastPTS {
		// Catching up, two frames could read the clock within one tick:
		// wait for the next tick, so PTS rise and stay clock readings.
		if err := c.clk.WaitUntil(ctx, c.timeline.Time(c.lastPTS+1)); err != nil {
			return err
		}
		pts = c.timeline.PTS(c.clk.Now())
	}
	c.started, c.lastPTS = true, pts
	f.PTS = pts
	c.render(f)
	return nil
}

// render draws the board for f.PTS, the event visible then, if any, and
// the PTS strip if asked for.
func (c *Checkerboard) render(f *Frame) {
	// Roll one square to the left per second.
	shift := int(int64(f.PTS) * int64(c.cfg.Block) / clock.Hz % int64(2*c.cfg.Block))
	if shift != c.rowShift {
		c.drawRows(shift)
	}
	stride := c.cfg.Size.Width * 3
	for y := 0; y < c.cfg.Size.Height; y++ {
		src := c.rowEven
		if (y/c.cfg.Block)%2 == 1 {
			src = c.rowOdd
		}
		copy(f.BGR[y*stride:(y+1)*stride], src)
	}
	f.Event = c.showEvent(f)
	if c.cfg.Stamp {
		stamp.Draw(f.BGR, f.Size, f.PTS)
	}
}

// drawRows draws the two row patterns of the board rolled by shift pixels.
func (c *Checkerboard) drawRows(shift int) {
	for x := 0; x < c.cfg.Size.Width; x++ {
		var v byte
		if ((x+shift)/c.cfg.Block)%2 == 0 {
			v = 255
		}
		c.rowEven[3*x], c.rowEven[3*x+1], c.rowEven[3*x+2] = v, v, v
		c.rowOdd[3*x], c.rowOdd[3*x+1], c.rowOdd[3*x+2] = 255-v, 255-v, 255-v
	}
	c.rowShift = shift
}

// showEvent paints the mint block if an event covers f.PTS, records the
// ground truth, and returns the event's id (0 for none).
func (c *Checkerboard) showEvent(f *Frame) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var open *Event
	if n := len(c.events); n > 0 && c.events[n-1].EndPTS == 0 {
		open = &c.events[n-1]
	}
	for open == nil && f.PTS >= c.next.end {
		c.next = c.schedule(c.next.start) // missed entirely (source stalled)
	}
	if f.PTS < c.next.start {
		return 0
	}
	if f.PTS >= c.next.end {
		open.EndPTS = f.PTS
		c.next = c.schedule(c.next.start)
		return 0
	}
	if open == nil {
		c.events = append(c.events, Event{ID: len(c.events) + 1, FirstPTS: f.PTS, Col: c.next.col, Row: c.next.row})
		open = &c.events[len(c.events)-1]
	}
	b := c.cfg.Block
	stride := c.cfg.Size.Width * 3
	for y := c.next.row * b; y < (c.next.row+1)*b; y++ {
		row := f.BGR[y*stride+c.next.col*b*3 : y*stride+(c.next.col+1)*b*3]
		for x := 0; x < len(row); x += 3 {
			row[x], row[x+1], row[x+2] = Mint[2], Mint[1], Mint[0] // BGR
		}
	}
	return open.ID
}
