package snapshot

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Quality is the JPEG quality of every picture: high enough that a
// thumbnail shows the frame as the stream does (over 40 dB of PSNR against
// the decoded frame at the test's sizes), a tenth of the raw picture's
// bytes.
const Quality = 85

// encodeJPEG encodes img as a JPEG at Quality.
func encodeJPEG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, fmt.Errorf("snapshot: encode JPEG: %w", err)
	}
	return b.Bytes(), nil
}

// fromJPEG decodes a kept JPEG and scales it to size out with swscale.
func fromJPEG(data []byte, out media.Size) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("snapshot: decode kept JPEG: %w", err)
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src) // colour conversion only, to swscale's packed RGBA
	scaled, err := pipeline.ToRGBA(pipeline.RGBA, media.Size{Width: b.Dx(), Height: b.Dy()}, rgba.Pix, out)
	if err != nil {
		return nil, fmt.Errorf("snapshot: scale: %w", err)
	}
	return encodeJPEG(scaled)
}

// scaledSize returns the size width pixels wide with the aspect of s,
// the height rounded to the nearest pixel (at least 1); width 0 means s.
func scaledSize(s media.Size, width int) media.Size {
	if width == 0 || width == s.Width {
		return s
	}
	h := (s.Height*width + s.Width/2) / s.Width
	return media.Size{Width: width, Height: max(h, 1)}
}
