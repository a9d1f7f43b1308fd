package pipeline

import (
	"image"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// ToRGBA converts pic, one picture packed with no padding in format from
// (one of PixelFormats, or RGBA) at size in, to an RGBA image at size out,
// with swscale: the colour conversion (BT.601, limited range for YUV420P,
// as the encoder wrote it) and, when out is smaller, an area-averaging
// downscale. It is what a still picture of a frame (a thumbnail) is made
// from; each call makes its own swscale context, so it is safe from any
// goroutine.
func ToRGBA(from PixelFormat, in media.Size, pic []byte, out media.Size) (*image.RGBA, error) {
	method := bilinear // unscaled: the method is not used
	if out != in {
		method = area
	}
	sc, err := newScaler(from, in, RGBA, out, method)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	img := image.NewRGBA(image.Rect(0, 0, out.Width, out.Height))
	if err := sc.scale(pic, img.Pix); err != nil {
		return nil, err
	}
	return img, nil
}
