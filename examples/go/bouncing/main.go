// Command bouncing is a simulation that embeds hlsmark: it renders a
// falling ball with image/draw, pushes every frame with its own PTS (the
// simulation's clock), adds a marker at the exact frame where the ball
// lands, and serves the player, the stream and the marker API itself.
//
//	go run ./examples/go/bouncing --addr 127.0.0.1:8080 --data ./ball
//
// Open the address it prints and click the marker: the player seeks to
// the landing. Once the simulation is over the stream ends (EXT-X-ENDLIST)
// and is served on until SIGINT or SIGTERM. It prints a JSON line on
// standard output when it serves (the page's address), when it has added
// the marker, and when the stream has ended.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/server/live"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bouncing:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8080", "`host:port` to serve the player, stream and API on")
	data := flag.String("data", "./ball", "`folder` for the stream's segments, playlist and markers")
	seconds := flag.Float64("seconds", 10, "how long the simulation runs")
	fast := flag.Bool("fast", false, "push frames as fast as hlsmark takes them, not in real time")
	flag.Parse()

	pipeline.RouteLibavLogs(slog.Default()) // libav's warnings as log lines
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	const fps = 25
	size := media.Size{Width: 320, Height: 240}
	s, err := live.Start(ctx, live.Config{Name: "ball", Data: *data, Size: size, FPS: fps})
	if err != nil {
		return err
	}
	defer s.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(s.Handler().Shutdown)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	page := "http://" + ln.Addr().String()
	if err := say(map[string]any{"open": page + "/", "playlist": page + s.PlaylistPath()}); err != nil {
		return err
	}

	if err := simulate(ctx, s, size, fps, *seconds, *fast); err != nil && ctx.Err() == nil {
		return err // not stopped by a signal
	}
	if err := s.End(); err != nil {
		return err
	}
	if err := say(map[string]any{"ended": true, "dir": s.Dir()}); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	return s.Close()
}

// simulate drops a ball at 120 px/s² until it lands on the floor, where
// it turns red, pushing one frame every 1/fps s of simulated time: frame
// n has PTS 1 s + n/fps (in 90 kHz ticks). The marker goes on the first
// red frame, once it is pushed.
func simulate(ctx context.Context, s *live.Stream, size media.Size, fps int, seconds float64, fast bool) error {
	img := image.NewRGBA(image.Rect(0, 0, size.Width, size.Height))
	floor, radius := size.Height-8, size.Height/10
	landed := false
	start := time.Now()
	for n := range int(seconds * float64(fps)) {
		pts := clock.Hz + clock.Ticks(n)*clock.Hz/clock.Ticks(fps)
		t := float64(n) / float64(fps)
		y := min(float64(radius)+0.5*120*t*t, float64(floor-radius))
		lands := !landed && y >= float64(floor-radius)
		landed = landed || lands
		render(img, int(y), radius, landed)
		if err := s.PushImage(ctx, pts, img); err != nil {
			return err
		}
		if lands {
			m, err := s.AddMarker(ctx, live.Marker{PTS: pts, Label: "ball lands", Data: json.RawMessage(fmt.Sprintf(`{"frame": %d}`, n))})
			if err != nil {
				return err
			}
			if err := say(map[string]any{"frame": n, "pts": pts, "marker": m.ID}); err != nil {
				return err
			}
		}
		if !fast {
			if err := (clock.Real{}).WaitUntil(ctx, start.Add(time.Duration(n+1)*time.Second/time.Duration(fps))); err != nil {
				return err
			}
		}
	}
	return nil
}

// Colours of the scene.
var (
	sky    = image.NewUniform(color.RGBA{20, 30, 60, 255})
	ground = image.NewUniform(color.RGBA{90, 90, 90, 255})
	white  = image.NewUniform(color.RGBA{240, 240, 240, 255})
	red    = image.NewUniform(color.RGBA{230, 30, 30, 255})
)

// render draws the sky, the floor and the ball centred at row y, red once
// it has landed.
func render(img *image.RGBA, y, radius int, landed bool) {
	b := img.Bounds()
	draw.Draw(img, b, sky, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, b.Max.Y-8, b.Max.X, b.Max.Y), ground, image.Point{}, draw.Src)
	ball := white
	if landed {
		ball = red
	}
	centre := image.Pt(b.Dx()/2, y)
	draw.DrawMask(img, b, ball, image.Point{}, &disc{centre, radius}, image.Point{}, draw.Over)
}

// disc is a mask: opaque inside the circle of radius r around c.
type disc struct {
	c image.Point
	r int
}

func (d *disc) ColorModel() color.Model { return color.AlphaModel }

func (d *disc) Bounds() image.Rectangle {
	return image.Rect(d.c.X-d.r, d.c.Y-d.r, d.c.X+d.r+1, d.c.Y+d.r+1)
}

func (d *disc) At(x, y int) color.Color {
	if dx, dy := x-d.c.X, y-d.c.Y; dx*dx+dy*dy <= d.r*d.r {
		return color.Alpha{A: 255}
	}
	return color.Alpha{}
}

// say prints v as one JSON line on standard output.
func say(v any) error {
	return json.NewEncoder(os.Stdout).Encode(v)
}
