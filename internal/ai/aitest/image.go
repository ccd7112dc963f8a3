package aitest

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"sync"
)

// The fakes answer with a rounded "product" on a soft studio gradient, made
// in-process. Images are drawn row by row from precomputed rows and cached
// per size, so even 1536×1024 answers cost little under the race detector.

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

// productSpan returns the product's columns [x0, x1) in row y of a w×h
// image, empty when the row misses it. The product is a box with rounded
// corners taking the middle half of the width and two thirds of the height.
func productSpan(y, w, h int) (x0, x1 int) {
	cx, cy := float64(w)/2, float64(h)/2
	hw, hh := float64(w)/4, float64(h)/3
	r := min(hw, hh) / 3
	dy := max(math.Abs(float64(y)+0.5-cy)-(hh-r), 0)
	if dy > r {
		return 0, 0
	}
	half := hw - r + math.Sqrt(r*r-dy*dy)
	x0 = max(int(math.Ceil(cx-half-0.5)), 0)
	x1 = min(int(math.Floor(cx+half-0.5))+1, w)
	return x0, max(x0, x1)
}

// productBounds returns the bounding box of the product in a w×h image.
func productBounds(w, h int) image.Rectangle {
	top, bottom := -1, 0
	for y := range h {
		if x0, x1 := productSpan(y, w, h); x1 > x0 {
			if top < 0 {
				top = y
			}
			bottom = y + 1
		}
	}
	x0, x1 := productSpan(h/2, w, h)
	return image.Rect(x0, max(top, 0), x1, bottom)
}

// painter fills rows of a w×h scene with bpp bytes per pixel (3 RGB,
// 4 RGBA, 1 grey matte). With cutout, the background is transparent.
type painter struct {
	w, h, bpp int
	cutout    bool
	product   []byte         // a full-width row of product colour
	bgRows    map[int][]byte // background rows by shade
}

func newPainter(w, h, bpp int, cutout bool) *painter {
	p := &painter{w: w, h: h, bpp: bpp, cutout: cutout, product: make([]byte, w*bpp), bgRows: map[int][]byte{}}
	for x := range w {
		px := p.product[x*bpp : (x+1)*bpp]
		if bpp == 1 {
			px[0] = 255
			continue
		}
		px[0], px[1], px[2] = 40+byte(80*x/w), 90, 160
		if bpp == 4 {
			px[3] = 255
		}
	}
	return p
}

func (p *painter) row(y int, dst []byte) {
	shade := 235 - 40*y/max(p.h, 1)
	bg, ok := p.bgRows[shade]
	if !ok {
		bg = make([]byte, p.w*p.bpp)
		if !p.cutout {
			for i := 0; i < len(bg); i += p.bpp {
				bg[i], bg[i+1], bg[i+2] = byte(shade), byte(shade-8), byte(shade-20)
				if p.bpp == 4 {
					bg[i+3] = 255
				}
			}
		}
		p.bgRows[shade] = bg
	}
	copy(dst, bg)
	x0, x1 := productSpan(y, p.w, p.h)
	copy(dst[x0*p.bpp:x1*p.bpp], p.product[x0*p.bpp:x1*p.bpp])
}

// PNG returns a w×h PNG photo of a product in a scene.
func PNG(w, h int) []byte {
	return cached("png", w, h, func() []byte {
		return encodeRows(w, h, 3, newPainter(w, h, 3, false).row)
	})
}

// JPEG returns a w×h JPEG photo of a product in a scene.
func JPEG(w, h int) []byte {
	return cached("jpeg", w, h, func() []byte {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		p := newPainter(w, h, 4, false)
		for y := range h {
			p.row(y, img.Pix[y*img.Stride:y*img.Stride+w*4])
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			panic("aitest: encode jpeg: " + err.Error())
		}
		return buf.Bytes()
	})
}

// CutoutPNG returns a w×h PNG with the product opaque and the background
// fully transparent, as remove.bg answers.
func CutoutPNG(w, h int) []byte {
	return cached("cutout", w, h, func() []byte {
		return encodeRows(w, h, 4, newPainter(w, h, 4, true).row)
	})
}

// alphaPNG returns the matte of CutoutPNG as a grey PNG (remove.bg
// channels=alpha).
func alphaPNG(w, h int) []byte {
	return cached("alpha", w, h, func() []byte {
		return encodeRows(w, h, 1, newPainter(w, h, 1, true).row)
	})
}
