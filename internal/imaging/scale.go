package imaging

import (
	"image"
	"image/draw"
	"math"
)

// scaleCutout returns the sr part of src resized to w×h as premultiplied RGBA, ready to
// composite with draw.Over. Reductions by 2× or more first box-average by an integer
// factor on the Pix slices; the rest is a separable Catmull-Rom filter on premultiplied
// colour, so transparent pixels never bleed dark fringes into the edge.
func scaleCutout(src *image.NRGBA, sr image.Rectangle, w, h int) *image.RGBA {
	w, h = max(w, 1), max(h, 1)
	f := min(sr.Dx()/w, sr.Dy()/h)
	if f >= 2 {
		r := boxReduce(src, sr, f)
		return resample(r.Pix, r.Stride, r.Rect, w, h, true)
	}
	sub := src.SubImage(sr).(*image.NRGBA)
	return resample(sub.Pix, sub.Stride, image.Rect(0, 0, sr.Dx(), sr.Dy()), w, h, false)
}

// taps are one output coordinate's source range and normalised filter weights.
type taps struct {
	start   int
	weights []float32
}

// cubicTaps computes Catmull-Rom weights mapping n source samples to m output samples,
// widening the kernel when reducing so every source sample contributes.
func cubicTaps(n, m int) []taps {
	scale := float64(m) / float64(n)
	support := 2.0
	stretch := 1.0
	if scale < 1 {
		stretch = 1 / scale
	}
	support *= stretch
	out := make([]taps, m)
	for i := range out {
		centre := (float64(i)+0.5)/scale - 0.5
		lo := int(math.Ceil(centre - support))
		hi := int(math.Floor(centre + support))
		lo, hi = max(lo, 0), min(hi, n-1)
		ws := make([]float32, hi-lo+1)
		var sum float32
		for j := lo; j <= hi; j++ {
			x := math.Abs(float64(j)-centre) / stretch
			var k float64
			switch {
			case x < 1:
				k = 1.5*x*x*x - 2.5*x*x + 1
			case x < 2:
				k = -0.5*x*x*x + 2.5*x*x - 4*x + 2
			}
			ws[j-lo] = float32(k)
			sum += float32(k)
		}
		if sum != 0 {
			for j := range ws {
				ws[j] /= sum
			}
		}
		out[i] = taps{start: lo, weights: ws}
	}
	return out
}

// resample scales a 4-channel image (pix/stride, r at 0,0) to w×h. premultiplied says
// whether pix is already premultiplied RGBA; otherwise it is NRGBA and is premultiplied
// on the way in. Source rows are filtered horizontally once each into a small ring of
// rows, so memory stays a few rows wide whatever the image size.
func resample(pix []uint8, stride int, r image.Rectangle, w, h int, premultiplied bool) *image.RGBA {
	sw, sh := r.Dx(), r.Dy()
	xt, yt := cubicTaps(sw, w), cubicTaps(sh, h)
	ring := 1
	for _, t := range yt {
		ring = max(ring, len(t.weights))
	}
	ring++
	rows := make([]float32, 4*w*ring)
	have := make([]int, ring) // source row held in each ring slot, -1 for none
	for i := range have {
		have[i] = -1
	}
	filtered := func(y int) []float32 {
		slot := y % ring
		out := rows[4*w*slot : 4*w*(slot+1)]
		if have[slot] == y {
			return out
		}
		have[slot] = y
		row := pix[y*stride : y*stride+4*sw]
		for x, t := range xt {
			var cr, cg, cb, ca float32
			p := row[4*t.start : 4*(t.start+len(t.weights))]
			ws := t.weights[:len(p)/4]
			if premultiplied {
				for j, wt := range ws {
					q := p[4*j : 4*j+4 : 4*j+4]
					cr += wt * float32(q[0])
					cg += wt * float32(q[1])
					cb += wt * float32(q[2])
					ca += wt * float32(q[3])
				}
			} else {
				for j, wt := range ws {
					q := p[4*j : 4*j+4 : 4*j+4]
					a := wt * float32(q[3])
					cr += a * float32(q[0])
					cg += a * float32(q[1])
					cb += a * float32(q[2])
					ca += a
				}
				cr, cg, cb = cr/255, cg/255, cb/255
			}
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = cr, cg, cb, ca
		}
		return out
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	acc := make([]float32, 4*w)
	for y, t := range yt {
		clear(acc)
		for j, wt := range t.weights {
			src := filtered(t.start + j)[:len(acc)]
			for i, v := range src {
				acc[i] += wt * v
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for i := 0; i < len(out); i += 4 {
			a := clampF(acc[i+3], 0, 255)
			out[i] = uint8(clampF(acc[i], 0, a) + 0.5)
			out[i+1] = uint8(clampF(acc[i+1], 0, a) + 0.5)
			out[i+2] = uint8(clampF(acc[i+2], 0, a) + 0.5)
			out[i+3] = uint8(a + 0.5)
		}
	}
	return dst
}

// boxReduce averages f×f blocks of the sr part of src into a premultiplied RGBA image.
func boxReduce(src *image.NRGBA, sr image.Rectangle, f int) *image.RGBA {
	w, h := sr.Dx()/f, sr.Dy()/f
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sums := make([]uint32, 4*w)
	n := uint32(f * f)
	for y := 0; y < h; y++ {
		clear(sums)
		for dy := 0; dy < f; dy++ {
			sy := sr.Min.Y + y*f + dy
			row := src.Pix[sy*src.Stride+4*sr.Min.X : sy*src.Stride+4*(sr.Min.X+w*f)]
			for x := 0; x < w; x++ {
				p := row[4*x*f : 4*(x+1)*f]
				var r, g, b, a uint32
				for i := 0; i < len(p); i += 4 {
					pa := uint32(p[i+3])
					r += uint32(p[i]) * pa
					g += uint32(p[i+1]) * pa
					b += uint32(p[i+2]) * pa
					a += pa
				}
				sums[4*x] += r
				sums[4*x+1] += g
				sums[4*x+2] += b
				sums[4*x+3] += a
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for x := 0; x < w; x++ {
			out[4*x] = uint8((sums[4*x]/255 + n/2) / n)
			out[4*x+1] = uint8((sums[4*x+1]/255 + n/2) / n)
			out[4*x+2] = uint8((sums[4*x+2]/255 + n/2) / n)
			out[4*x+3] = uint8((sums[4*x+3] + n/2) / n)
		}
	}
	return dst
}

// newCanvas returns a w×h opaque canvas filled with c.
func newCanvas(w, h int, c [3]uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	row := img.Pix[:4*w]
	for x := 0; x < w; x++ {
		row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c[0], c[1], c[2], 255
	}
	for y := 1; y < h; y++ {
		copy(img.Pix[y*img.Stride:y*img.Stride+4*w], row)
	}
	return img
}

// over composites src (premultiplied) onto dst with its top-left corner at at.
func over(dst *image.RGBA, src *image.RGBA, at image.Point) {
	draw.Draw(dst, src.Rect.Add(at), src, src.Rect.Min, draw.Over)
}

// fitSize returns the largest w×h with the aspect ratio of src that fits in maxW×maxH.
func fitSize(src image.Rectangle, maxW, maxH int) (int, int) {
	sw, sh := float64(src.Dx()), float64(src.Dy())
	s := min(float64(maxW)/sw, float64(maxH)/sh)
	return max(1, int(sw*s+0.5)), max(1, int(sh*s+0.5))
}
