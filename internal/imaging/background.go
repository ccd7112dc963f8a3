package imaging

import (
	"fmt"
	"image"
	"slices"
)

// workImage is a downscaled copy of a photo used to estimate the background mask. Each
// work pixel is the box average of a k×k block of the photo.
type workImage struct {
	w, h, k int
	rgb     []float32 // 3 floats per pixel, 0–255, not blurred
	lab     []lab     // Lab of the 3×3-blurred rgb, to keep noise out of the flood fill
}

// newWorkImage box-averages img by the smallest integer factor that brings its longest
// side to at most maxSide.
func newWorkImage(img *image.NRGBA, maxSide int) *workImage {
	W, H := img.Rect.Dx(), img.Rect.Dy()
	k := (max(W, H) + maxSide - 1) / maxSide
	k = max(k, 1)
	w, h := max(W/k, 1), max(H/k, 1)
	wi := &workImage{w: w, h: h, k: k, rgb: make([]float32, 3*w*h), lab: make([]lab, w*h)}
	sums := make([]uint32, 3*w)
	inv := 1 / float32(k*k)
	for y := 0; y < h; y++ {
		clear(sums)
		for dy := 0; dy < k; dy++ {
			sy := min(y*k+dy, H-1)
			row := img.Pix[sy*img.Stride : sy*img.Stride+4*W]
			for x := 0; x < w; x++ {
				p := row[4*x*k : 4*(x*k+k)]
				var r, g, b uint32
				for i := 0; i+3 < len(p); i += 4 {
					r += uint32(p[i])
					g += uint32(p[i+1])
					b += uint32(p[i+2])
				}
				sums[3*x] += r
				sums[3*x+1] += g
				sums[3*x+2] += b
			}
		}
		out := wi.rgb[3*y*w : 3*(y+1)*w]
		for i, s := range sums {
			out[i] = float32(s) * inv
		}
	}
	blurred := boxBlur3(wi.rgb, w, h, 3)
	for i := range wi.lab {
		wi.lab[i] = labFromRGB(blurred[3*i], blurred[3*i+1], blurred[3*i+2])
	}
	return wi
}

// boxBlur3 returns a 3×3 box blur of an interleaved float image with ch channels
// (edges clamped).
func boxBlur3(src []float32, w, h, ch int) []float32 {
	tmp := make([]float32, len(src))
	for y := 0; y < h; y++ {
		row := src[y*w*ch : (y+1)*w*ch]
		out := tmp[y*w*ch : (y+1)*w*ch]
		for x := 0; x < w; x++ {
			l, r := max(x-1, 0), min(x+1, w-1)
			for c := 0; c < ch; c++ {
				out[x*ch+c] = (row[l*ch+c] + row[x*ch+c] + row[r*ch+c]) / 3
			}
		}
	}
	dst := make([]float32, len(src))
	for y := 0; y < h; y++ {
		u, d := max(y-1, 0), min(y+1, h-1)
		a, b, c := tmp[u*w*ch:(u+1)*w*ch], tmp[y*w*ch:(y+1)*w*ch], tmp[d*w*ch:(d+1)*w*ch]
		out := dst[y*w*ch : (y+1)*w*ch]
		for i := range out {
			out[i] = (a[i] + b[i] + c[i]) / 3
		}
	}
	return dst
}

// Background model thresholds, in CIE76 ΔE units.
const (
	// binNoiseMax is the largest typical deviation inside a border bin for it to count as
	// plain backdrop (paper, sweep, wall). Textures such as wood, fabric or a room exceed it.
	binNoiseMax = 5
	// binDriftMax is how far a bin's colour may be from the border's median colour and
	// still be backdrop (covers vignetting and light gradients, not a second surface).
	binDriftMax = 30
	// plainFractionMin is the share of border bins that must be plain backdrop; the rest
	// may be the product touching the frame.
	plainFractionMin = 0.7
	binsPerSide      = 16
)

// bgModel is a smooth estimate of the backdrop colour at every work pixel, built from
// the four border strips (a Coons patch between the side profiles), so light gradients
// and vignetting do not read as product.
type bgModel struct {
	at     []lab   // backdrop colour per work pixel
	noise  float32 // typical ΔE of backdrop pixels from the model
	median lab     // median border colour
}

// estimateBackground models the backdrop from the border of wi, or returns an error
// wrapping ErrNeedsAIBackgroundRemoval when the border is not a plain backdrop.
func estimateBackground(wi *workImage) (*bgModel, error) {
	w, h := wi.w, wi.h
	s := max(2, min(w, h)/64) // strip depth in work pixels
	if w < 4*s || h < 4*s {
		return nil, fmt.Errorf("%w: image is too small to analyse", ErrTooSmall)
	}
	sides := borderSides(w, h)
	bins, global := sampleBorder(wi, sides, s)
	noises := markPlainBins(&bins, global)
	if frac := float64(len(noises)) / (4 * binsPerSide); frac < plainFractionMin {
		return nil, fmt.Errorf("%w: only %.0f%% of the photo's border is plain backdrop",
			ErrNeedsAIBackgroundRemoval, 100*frac)
	}
	var profiles [4][]lab
	for si := range sides {
		profiles[si] = sideProfile(&bins[si], sides[si].n, global)
	}
	m := coonsPatch(w, h, profiles[0], profiles[1], profiles[2], profiles[3])
	m.noise, m.median = medianF(noises), global
	return m, nil
}

// borderSide is one side of the image: n positions along it, and the work pixel
// at a position and a depth into the image.
type borderSide struct {
	n      int
	pixels func(pos, depth int) int // index of the work pixel
}

// borderSides are the top, bottom, left and right sides of a w×h work image.
func borderSides(w, h int) [4]borderSide {
	return [4]borderSide{
		{w, func(p, d int) int { return d*w + p }},           // top
		{w, func(p, d int) int { return (h-1-d)*w + p }},     // bottom
		{h, func(p, d int) int { return p*w + d }},           // left
		{h, func(p, d int) int { return p*w + (w - 1 - d) }}, // right
	}
}

// borderBin is one stretch of a side's strip: its median colour, its typical
// deviation from it, and whether it is plain backdrop.
type borderBin struct {
	med   lab
	noise float32
	plain bool
}

// sampleBorder cuts each side's strip, depth pixels deep, into binsPerSide bins and
// measures each; global is the median colour of the whole border.
func sampleBorder(wi *workImage, sides [4]borderSide, depth int) (bins [4][binsPerSide]borderBin, global lab) {
	var all []lab
	var buf []lab
	for si, sd := range sides {
		for b := 0; b < binsPerSide; b++ {
			lo, hi := b*sd.n/binsPerSide, (b+1)*sd.n/binsPerSide
			buf = buf[:0]
			for p := lo; p < hi; p++ {
				for d := 0; d < depth; d++ {
					buf = append(buf, wi.lab[sd.pixels(p, d)])
				}
			}
			all = append(all, buf...)
			med := medianLab(buf)
			devs := make([]float32, len(buf))
			for i, c := range buf {
				devs[i] = deltaE(c, med)
			}
			bins[si][b] = borderBin{med: med, noise: medianF(devs)}
		}
	}
	return bins, medianLab(all)
}

// markPlainBins marks the bins that are plain backdrop (quiet, and near the
// border's median colour) and returns their noise figures.
func markPlainBins(bins *[4][binsPerSide]borderBin, global lab) (noises []float32) {
	for si := range bins {
		for b := range bins[si] {
			bn := &bins[si][b]
			bn.plain = bn.noise <= binNoiseMax && deltaE(bn.med, global) <= binDriftMax
			if bn.plain {
				noises = append(noises, bn.noise)
			}
		}
	}
	return noises
}

// sideProfile is the backdrop colour at each of a side's n positions: its plain
// bins' medians, interpolated across the others (global when none is plain).
func sideProfile(bins *[binsPerSide]borderBin, n int, global lab) []lab {
	var xs []float32
	var vs []lab
	for b := range bins {
		if bins[b].plain {
			xs = append(xs, (float32(b)+0.5)*float32(n)/binsPerSide)
			vs = append(vs, bins[b].med)
		}
	}
	if len(xs) == 0 {
		xs, vs = []float32{0}, []lab{global}
	}
	out := make([]lab, n)
	j := 0
	for p := range out {
		x := float32(p) + 0.5
		for j+1 < len(xs) && xs[j+1] < x {
			j++
		}
		switch {
		case x <= xs[0]:
			out[p] = vs[0]
		case j+1 >= len(xs):
			out[p] = vs[len(vs)-1]
		default:
			t := (x - xs[j]) / (xs[j+1] - xs[j])
			out[p] = mixLab(vs[j], vs[j+1], t)
		}
	}
	return out
}

// coonsPatch fills a w×h model between the four side profiles.
func coonsPatch(w, h int, top, bottom, left, right []lab) *bgModel {
	c00 := mixLab(top[0], left[0], 0.5)
	c10 := mixLab(top[w-1], right[0], 0.5)
	c01 := mixLab(bottom[0], left[h-1], 0.5)
	c11 := mixLab(bottom[w-1], right[h-1], 0.5)
	m := &bgModel{at: make([]lab, w*h)}
	for y := 0; y < h; y++ {
		v := (float32(y) + 0.5) / float32(h)
		for x := 0; x < w; x++ {
			u := (float32(x) + 0.5) / float32(w)
			m.at[y*w+x] = coons(u, v, top[x], bottom[x], left[y], right[y], c00, c10, c01, c11)
		}
	}
	return m
}

func coons(u, v float32, t, b, l, r, c00, c10, c01, c11 lab) lab {
	f := func(t, b, l, r, c00, c10, c01, c11 float32) float32 {
		return (1-v)*t + v*b + (1-u)*l + u*r -
			((1-u)*(1-v)*c00 + u*(1-v)*c10 + (1-u)*v*c01 + u*v*c11)
	}
	return lab{
		L: f(t.L, b.L, l.L, r.L, c00.L, c10.L, c01.L, c11.L),
		A: f(t.A, b.A, l.A, r.A, c00.A, c10.A, c01.A, c11.A),
		B: f(t.B, b.B, l.B, r.B, c00.B, c10.B, c01.B, c11.B),
	}
}

func mixLab(p, q lab, t float32) lab {
	return lab{p.L + (q.L-p.L)*t, p.A + (q.A-p.A)*t, p.B + (q.B-p.B)*t}
}

func medianLab(cs []lab) lab {
	if len(cs) == 0 {
		return lab{}
	}
	v := make([]float32, len(cs))
	var out lab
	for ch := 0; ch < 3; ch++ {
		for i, c := range cs {
			v[i] = [3]float32{c.L, c.A, c.B}[ch]
		}
		m := medianF(v)
		switch ch {
		case 0:
			out.L = m
		case 1:
			out.A = m
		default:
			out.B = m
		}
	}
	return out
}

// medianF returns the median of v, reordering v.
func medianF(v []float32) float32 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}
