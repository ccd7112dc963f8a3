package imaging

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// scene describes a synthesised product photo with a known ground-truth mask.
type scene struct {
	w, h       int
	background color.NRGBA
	gradient   float64 // brightness change from top to bottom, in 8-bit units
	shadow     float64 // darkening at the shadow's core, 0–1
	noise      float64 // Gaussian noise σ, 8-bit units
	quality    int     // JPEG quality; 0 = no JPEG round trip
	shape      string  // "mug", "bottle", "ball", "box"
	colour     color.NRGBA
	seed       uint64
}

// inside reports whether (x, y), in units of the scene's height, is on the product, and
// the product's local shading factor.
func (s scene) inside(x, y float64) (bool, float64) {
	cx := float64(s.w) / float64(s.h) / 2
	switch s.shape {
	case "mug":
		// Body: rounded rectangle; handle: ring on the right with a hole.
		bx0, bx1, by0, by1 := cx-0.2, cx+0.14, 0.25, 0.8
		if x >= bx0 && x <= bx1 && y >= by0 && y <= by1 {
			return true, 0.75 + 0.35*math.Sin(math.Pi*(x-bx0)/(bx1-bx0))
		}
		hx, hy := bx1, 0.5
		d := math.Hypot((x-hx)/1.0, (y-hy)/1.15)
		if x > bx1-0.01 && d <= 0.15 && d >= 0.09 {
			return true, 0.85
		}
	case "bottle":
		if x >= cx-0.12 && x <= cx+0.12 && y >= 0.35 && y <= 0.88 {
			return true, 0.7 + 0.4*math.Sin(math.Pi*(x-(cx-0.12))/0.24)
		}
		if x >= cx-0.045 && x <= cx+0.045 && y >= 0.12 && y <= 0.36 {
			return true, 0.9
		}
		if math.Hypot(x-cx, (y-0.35)*2) <= 0.12 {
			return true, 0.9
		}
	case "ball":
		r := math.Hypot(x-cx, y-0.5)
		if r <= 0.33 {
			stripe := 1.0
			if math.Mod(math.Abs(x-cx+y)*12, 2) < 1 {
				stripe = 0.8
			}
			return true, stripe * (1.05 - 0.5*r)
		}
	case "box":
		if x >= cx-0.3 && x <= cx+0.3 && y >= 0.2 && y <= 0.85 {
			shade := 1.0
			if x > cx+0.12 {
				shade = 0.75
			}
			return true, shade
		}
	}
	return false, 0
}

// render draws the scene and returns the photo (after the JPEG round trip, if any) and
// the ground-truth product mask.
func (s scene) render(t testing.TB) (*image.NRGBA, []bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.seed, 7))
	img := image.NewNRGBA(image.Rect(0, 0, s.w, s.h))
	truth := make([]bool, s.w*s.h)
	H := float64(s.h)
	cx := float64(s.w) / H / 2
	// Bottom of the product, for the shadow.
	base := map[string]float64{"mug": 0.8, "bottle": 0.88, "ball": 0.83, "box": 0.85}[s.shape]
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			// 2×2 supersampling for anti-aliased edges.
			cover, shade := 0.0, 0.0
			for _, o := range [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
				in, sh := s.inside((float64(x)+o[0])/H, (float64(y)+o[1])/H)
				if in {
					cover += 0.25
					shade += sh
				}
			}
			if cover > 0 {
				shade /= cover * 4
			}
			truth[y*s.w+x] = cover >= 0.5
			fy := float64(y) / H
			fx := float64(x) / H
			bgk := 1.0
			if s.shadow > 0 {
				d := math.Hypot((fx-cx)/0.32, (fy-base)/0.05)
				bgk -= s.shadow * math.Exp(-d*d*1.5)
			}
			vig := 1 - 0.04*math.Hypot(fx-cx, fy-0.5)
			o := 4 * (y*s.w + x)
			for c := 0; c < 3; c++ {
				bg := [3]float64{float64(s.background.R), float64(s.background.G), float64(s.background.B)}[c]
				bg = (bg + s.gradient*(fy-0.5)) * bgk * vig
				fg := [3]float64{float64(s.colour.R), float64(s.colour.G), float64(s.colour.B)}[c] * shade
				v := cover*fg + (1-cover)*bg + rng.NormFloat64()*s.noise
				img.Pix[o+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
			}
			img.Pix[o+3] = 255
		}
	}
	if s.quality > 0 {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: s.quality}); err != nil {
			t.Fatal(err)
		}
		dec, _, err := DecodeBytes(context.Background(), buf.Bytes(), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		img = dec
	}
	return img, truth
}

// maskIoU compares a cut-out's alpha (≥ 50 %) with the ground truth, in photo coordinates.
func maskIoU(cut *Cutout, truth []bool, w, h int) float64 {
	inter, union := 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			got := false
			if p := image.Pt(x, y); p.In(cut.Bounds) {
				q := p.Sub(cut.Bounds.Min)
				got = cut.Image.Pix[q.Y*cut.Image.Stride+4*q.X+3] >= 128
			}
			want := truth[y*w+x]
			if got && want {
				inter++
			}
			if got || want {
				union++
			}
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
