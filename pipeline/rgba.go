package pipeline

import (
	"image"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Scale converts pic, one picture packed with no padding in format from
// (one of PixelFormats, or RGBA) at size in, to a picture packed likewise
// in format to at size out, with swscale: the colour conversion (BT.601,
// limited range for YUV420P, as the encoder takes it) and, when out
// differs from in, an area-averaging scale. Still pictures of frames
// (thumbnails) are made with it; each call makes its own swscale context,
// so it is safe from any goroutine.
func Scale(from PixelFormat, in media.Size, pic []byte, to PixelFormat, out media.Size) ([]byte, error) {
	method := bilinear // unscaled: swscale's converter alone
	if out != in {
		method = area
	}
	sc, err := newScaler(from, in, to, out, method)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	dst := make([]byte, sc.outBytes)
	if err := sc.scale(pic, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// ToRGBA is Scale to an RGBA image at size out.
func ToRGBA(from PixelFormat, in media.Size, pic []byte, out media.Size) (*image.RGBA, error) {
	pix, err := Scale(from, in, pic, RGBA, out)
	if err != nil {
		return nil, err
	}
	return &image.RGBA{Pix: pix, Stride: out.Width * 4, Rect: image.Rect(0, 0, out.Width, out.Height)}, nil
}
