package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
)

// borderWidth is how deep, in pixels, the main image's frame is checked for pure white.
const borderWidth = 4

// Encode encodes a rendered image as the profile's JPEG. A main image is verified after
// encoding: its border must decode to exactly RGB 255,255,255 (JPEG can turn it to
// 254); if it does not, the outer 16 px (one JPEG block row) are painted white and the
// image encoded again, and if that still fails Encode returns an error.
// The fallback paints r.Image.
func Encode(r *Rendered, prof Profile) ([]byte, error) {
	data, _, err := encode(context.Background(), r, prof)
	return data, err
}

// encode is Encode that also returns the decoded main image it verified (nil for other
// types). The verifying decode waits for the decode budget until ctx ends.
func encode(ctx context.Context, r *Rendered, prof Profile) ([]byte, *image.NRGBA, error) {
	if r.Type != TypeMain {
		data, err := encodeJPEG(r.Image, prof.Quality)
		return data, nil, err
	}
	data, err := encodeJPEG(r.Image, prof.Quality)
	if err != nil {
		return nil, nil, err
	}
	dec, ok, err := encodedBorderWhite(ctx, data)
	if err != nil || ok {
		return data, dec, err
	}
	// Whiten the outer block ring so every border block is flat white, which JPEG keeps
	// exact. The product is never there: it fills at most 90 % of the canvas.
	img := r.Image
	W, H := img.Rect.Dx(), img.Rect.Dy()
	for _, band := range []image.Rectangle{
		image.Rect(0, 0, W, 16), image.Rect(0, H-16, W, H),
		image.Rect(0, 0, 16, H), image.Rect(W-16, 0, W, H),
	} {
		fillRect(img, band, white)
	}
	if data, err = encodeJPEG(img, prof.Quality); err != nil {
		return nil, nil, err
	}
	if dec, ok, err = encodedBorderWhite(ctx, data); err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("encode main image: border is not pure white after encoding")
	}
	return data, dec, nil
}

func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(1 << 20)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: max(quality, 90)}); err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

// encodedBorderWhite decodes a JPEG and reports whether its border is exactly white. The
// JPEG is this package's own, but its decode still takes its share of the budget, waiting
// for it until ctx ends: the budget bounds every decode in the process.
func encodedBorderWhite(ctx context.Context, data []byte) (*image.NRGBA, bool, error) {
	n, _, err := DecodeBytes(ctx, data, Limits{MaxBytes: math.MaxInt64, MinLongestSide: 1})
	if err != nil {
		return nil, false, fmt.Errorf("decode encoded JPEG: %w", err)
	}
	bad, _ := borderStats(n)
	return n, bad == 0, nil
}

// borderStats counts the pixels in the outer borderWidth frame that are not exactly
// white, and returns the darkest channel value found there.
func borderStats(img *image.NRGBA) (nonWhite int, darkest uint8) {
	W, H := img.Rect.Dx(), img.Rect.Dy()
	darkest = 255
	bw := min(borderWidth, W/2, H/2)
	for y := 0; y < H; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*W]
		inRow := y < bw || y >= H-bw
		for x := 0; x < W; x++ {
			if !inRow && x == bw {
				x = W - bw // skip the interior
			}
			o := 4 * x
			m := min(row[o], row[o+1], row[o+2])
			if m != 255 || row[o+3] != 255 {
				nonWhite++
				darkest = min(darkest, m)
			}
		}
	}
	return nonWhite, darkest
}
