package imaging

import (
	"image"
)

// RenderDetail shows a close-up of the product's most detailed region: the square
// window of the product with the most texture (gradient energy inside the product, not
// along its outline), scaled to the canvas but never enlarged more than 2×, on white.
func RenderDetail(cut *Cutout, prof Profile) *Rendered {
	W, H := prof.Width, prof.Height
	src := cut.Image
	pw, ph := src.Rect.Dx(), src.Rect.Dy()
	// Window side in source pixels: 45 % of the product's short side, but at least half
	// the canvas so the upscale stays ≤ 2×, and never beyond the product's long side.
	side := max(int(0.45*float64(min(pw, ph))), (max(W, H)+1)/2)
	side = min(side, max(pw, ph))
	win := detailWindow(src, side)
	scale := min(float64(W)/float64(win.Dx()), float64(H)/float64(win.Dy()), 2)
	w, h := int(float64(win.Dx())*scale+0.5), int(float64(win.Dy())*scale+0.5)
	canvas := newCanvas(W, H, white)
	at := image.Pt((W-w)/2, (H-h)/2)
	over(canvas, scaleCutout(src, win, w, h), at)
	return &Rendered{Type: TypeDetail, Image: canvas, Provider: ProviderLocal, ProductRect: image.Rect(at.X, at.Y, at.X+w, at.Y+h)}
}

// detailWindow returns the side×side window (clamped to the image) with the most
// interior gradient energy, searched on a copy at most 256 px across.
func detailWindow(src *image.NRGBA, side int) image.Rectangle {
	pw, ph := src.Rect.Dx(), src.Rect.Dy()
	f := max(1, (max(pw, ph)+255)/256)
	w, h := max(1, pw/f), max(1, ph/f)
	lum := make([]float32, w*h)
	opaque := make([]bool, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var sum, amin uint32 = 0, 255
			for dy := 0; dy < f; dy++ {
				row := src.Pix[(y*f+dy)*src.Stride:]
				for dx := 0; dx < f; dx++ {
					o := 4 * (x*f + dx)
					sum += 2*uint32(row[o]) + 5*uint32(row[o+1]) + uint32(row[o+2])
					amin = min(amin, uint32(row[o+3]))
				}
			}
			lum[y*w+x] = float32(sum) / float32(8*f*f)
			opaque[y*w+x] = amin == 255
		}
	}
	// Energy: gradient magnitude where the pixel and its neighbours are all product.
	energy := make([]float32, (w+1)*(h+1)) // integral image
	for y := 0; y < h; y++ {
		var rowSum float32
		for x := 0; x < w; x++ {
			var e float32
			if x > 0 && y > 0 && x < w-1 && y < h-1 {
				i := y*w + x
				if opaque[i] && opaque[i-1] && opaque[i+1] && opaque[i-w] && opaque[i+w] {
					gx, gy := lum[i+1]-lum[i-1], lum[i+w]-lum[i-w]
					if gx < 0 {
						gx = -gx
					}
					if gy < 0 {
						gy = -gy
					}
					e = gx + gy
				}
			}
			rowSum += e
			energy[(y+1)*(w+1)+x+1] = energy[y*(w+1)+x+1] + rowSum
		}
	}
	s := max(1, side/f)
	sw, sh := min(s, w), min(s, h)
	best, bx, by := float32(-1), 0, 0
	for y := 0; y+sh <= h; y++ {
		for x := 0; x+sw <= w; x++ {
			e := energy[(y+sh)*(w+1)+x+sw] - energy[y*(w+1)+x+sw] - energy[(y+sh)*(w+1)+x] + energy[y*(w+1)+x]
			// Prefer the centre on ties (flat products).
			cx, cy := float32(x+sw/2-w/2), float32(y+sh/2-h/2)
			e -= 1e-3 * (cx*cx + cy*cy)
			if e > best {
				best, bx, by = e, x, y
			}
		}
	}
	// Back to source pixels, centred on the chosen window, clamped to the image.
	cx, cy := (bx*2+sw)*f/2, (by*2+sh)*f/2
	half := side / 2
	r := image.Rect(cx-half, cy-half, cx-half+side, cy-half+side)
	if r.Min.X < 0 {
		r = r.Add(image.Pt(-r.Min.X, 0))
	}
	if r.Min.Y < 0 {
		r = r.Add(image.Pt(0, -r.Min.Y))
	}
	if r.Max.X > pw {
		r = r.Add(image.Pt(pw-r.Max.X, 0))
	}
	if r.Max.Y > ph {
		r = r.Add(image.Pt(0, ph-r.Max.Y))
	}
	return r.Intersect(src.Rect)
}
