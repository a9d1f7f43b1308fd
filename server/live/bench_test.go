//go:build cgo

package live_test

import (
	"context"
	"image"
	"image/color"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/server/live"
)

// BenchmarkPush pushes 1280x720 frames unpaced, as rgb24 bytes and as
// *image.RGBA, through the whole stream (swscale, libx264 veryfast, the
// muxer, the playlist) and reports how many a second it takes, End's
// flush included.
func BenchmarkPush(b *testing.B) {
	size := media.Size{Width: 1280, Height: 720}
	for _, kind := range []string{"rgb24", "rgba"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			s, err := live.Start(ctx, live.Config{Data: b.TempDir(), Size: size, FPS: 30})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			img := image.NewRGBA(image.Rect(0, 0, size.Width, size.Height))
			pix := make([]byte, size.Width*size.Height*3)
			start := time.Now()
			b.ResetTimer()
			for n := range b.N {
				v := byte(n) // a picture that changes, so the encoder has work
				pts := clock.Ticks(n+1) * 3000
				switch kind {
				case "rgb24":
					for i := 0; i < len(pix); i += 97 {
						pix[i] = v
					}
					err = s.Push(ctx, pts, pix)
				default:
					for y := 0; y < size.Height; y += 7 {
						img.SetRGBA(n%size.Width, y, color.RGBA{v, v, v, 255})
					}
					err = s.PushImage(ctx, pts, img)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if err := s.End(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
		})
	}
}
