package aitest

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"sync"
)

// Images the fakes answer with: a rounded "product" on a soft studio
// gradient, made in-process and cached per size so tests stay fast.

type imageKey struct {
	kind string
	w, h int
}

var imageCache sync.Map // imageKey → []byte

func cached(kind string, w, h int, make func() []byte) []byte {
	k := imageKey{kind, w, h}
	if b, ok := imageCache.Load(k); ok {
		return b.([]byte)
	}
	b := make()
	imageCache.Store(k, b)
	return b
}

// inProduct reports whether (x, y) is inside the product: a rounded box
// taking the middle half of the frame.
func inProduct(x, y, w, h int) bool {
	cx, cy := float64(w)/2, float64(h)/2
	hw, hh := float64(w)/4, float64(h)/3
	r := min(hw, hh) / 3
	dx := max(abs(float64(x)+0.5-cx)-(hw-r), 0)
	dy := max(abs(float64(y)+0.5-cy)-(hh-r), 0)
	return dx*dx+dy*dy <= r*r
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// scene draws the product on a gradient background.
func scene(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		bg := uint8(235 - 40*y/max(h, 1))
		for x := range w {
			i := img.PixOffset(x, y)
			c := color.RGBA{bg, bg - 8, bg - 20, 255}
			if inProduct(x, y, w, h) {
				c = color.RGBA{40 + uint8(80*x/max(w, 1)), 90, 160, 255}
			}
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
	return img
}

// PNG returns a w×h PNG photo of a product in a scene.
func PNG(w, h int) []byte {
	return cached("png", w, h, func() []byte { return encodePNG(scene(w, h)) })
}

// JPEG returns a w×h JPEG photo of a product in a scene.
func JPEG(w, h int) []byte {
	return cached("jpeg", w, h, func() []byte {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, scene(w, h), &jpeg.Options{Quality: 90}); err != nil {
			panic("aitest: encode jpeg: " + err.Error())
		}
		return buf.Bytes()
	})
}

// CutoutPNG returns a w×h PNG with the product opaque and the background
// fully transparent, as remove.bg answers.
func CutoutPNG(w, h int) []byte {
	return cached("cutout", w, h, func() []byte {
		img := scene(w, h)
		out := image.NewNRGBA(img.Rect)
		for y := range h {
			for x := range w {
				if inProduct(x, y, w, h) {
					i := img.PixOffset(x, y)
					copy(out.Pix[i:i+4], img.Pix[i:i+4])
				}
			}
		}
		return encodePNG(out)
	})
}

// alphaPNG returns the matte of CutoutPNG as a grey PNG (remove.bg
// channels=alpha).
func alphaPNG(w, h int) []byte {
	return cached("alpha", w, h, func() []byte {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				if inProduct(x, y, w, h) {
					img.Pix[img.PixOffset(x, y)] = 255
				}
			}
		}
		return encodePNG(img)
	})
}

func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		panic("aitest: encode png: " + err.Error())
	}
	return buf.Bytes()
}

// productBounds returns where the product is in a w×h image.
func productBounds(w, h int) image.Rectangle {
	return image.Rect(w/4, h/6, w-w/4, h-h/6)
}
