package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Cutout is a product separated from its background.
type Cutout struct {
	// Image is the product with an alpha channel, cropped to the product (Rect starts at
	// 0,0). Edge pixels are partly transparent and carry no backdrop colour cast.
	Image *image.NRGBA
	// Bounds is where Image sits in the source photo.
	Bounds image.Rectangle
	// Background is the backdrop colour that was removed (zero for a photo that already
	// had transparency).
	Background color.NRGBA
}

// maskWorkSize is the longest side, in pixels, of the copy the background mask is
// estimated on; the edge is then refined at full resolution.
const maskWorkSize = 1024

// RemoveBackground separates the product from a plain backdrop (white, grey or any even
// colour, with noise, gradients and soft shadows). A photo that already has transparency
// is cut along its alpha channel. Errors wrap ErrNeedsAIBackgroundRemoval when the
// backdrop is not plain, and ErrNoProduct when nothing stands out from it.
func RemoveBackground(img *image.NRGBA) (*Cutout, error) {
	if hasTransparentBorder(img) {
		return cutAlongAlpha(img)
	}
	wi := newWorkImage(img, maskWorkSize)
	model, err := estimateBackground(wi)
	if err != nil {
		return nil, fmt.Errorf("remove background: %w", err)
	}
	mask, dist, thi := floodBackground(wi, model)
	peelEdge(wi, mask, thi, 2)
	area := cleanMask(mask, dist, thi, wi.w, wi.h)
	if area*500 < wi.w*wi.h { // under 0.2 % of the photo
		return nil, fmt.Errorf("remove background: %w", ErrNoProduct)
	}
	if s := softOutline(wi, mask); s > softOutlineMax {
		return nil, fmt.Errorf("remove background: %w: %.0f%% of the product's outline is too faint against the backdrop",
			ErrNeedsAIBackgroundRemoval, 100*s)
	}
	bgRGB, bgOK := localColours(wi, mask, maskBackground, 4)
	fgRGB, fgOK := localColours(wi, mask, maskProduct, 4)
	out, bounds := matte(img, wi, mask, bgRGB, bgOK, fgRGB, fgOK, model.median)
	if out == nil {
		return nil, fmt.Errorf("remove background: %w", ErrNoProduct)
	}
	return &Cutout{Image: out, Bounds: bounds, Background: nrgbaOfLab(model.median)}, nil
}

// matte builds the full-resolution cut-out. Pixels whose four nearest work pixels agree
// are copied or dropped as they are; pixels on the edge get an alpha from where their
// colour lies between the local backdrop and local product colours, a light feather,
// and their colour with the backdrop's share removed: F = (C − (1−α)·B) / α.
func matte(img *image.NRGBA, wi *workImage, mask []uint8, bgRGB []float32, bgOK []bool,
	fgRGB []float32, fgOK []bool, bgMedian lab) (*image.NRGBA, image.Rectangle) {
	w, h, k := wi.w, wi.h, wi.k
	box, ok := productBox(mask, wi, img.Rect.Dx(), img.Rect.Dy())
	if !ok {
		return nil, image.Rectangle{}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, box.Dx(), box.Dy()))
	medR, medG, medB := labToRGB(bgMedian)
	xt, yt := workTaps(box.Min.X, box.Max.X, w, k), workTaps(box.Min.Y, box.Max.Y, h, k)

	var band []int32 // dst pixel indices on the edge
	for dy, ty := range yt {
		srow := img.Pix[(box.Min.Y+dy)*img.Stride:]
		drow := dst.Pix[dy*dst.Stride:]
		r0, r1 := ty.i0*w, ty.i1*w
		for dx, tx := range xt {
			a, b := mask[r0+tx.i0] == maskProduct, mask[r0+tx.i1] == maskProduct
			c, d := mask[r1+tx.i0] == maskProduct, mask[r1+tx.i1] == maskProduct
			s := 4 * (box.Min.X + dx)
			if a && b && c && d {
				copy(drow[4*dx:4*dx+4], srow[s:s+4])
				continue
			}
			if !a && !b && !c && !d {
				continue
			}
			m := bilinear(b2f(a), b2f(b), b2f(c), b2f(d), tx.t, ty.t)
			// Local backdrop and product colours around the pixel.
			var B, F [3]float32
			fOK := false
			bestB, bestF := float32(-1), float32(-1)
			for _, q := range [4]struct {
				i  int
				wt float32
			}{{r0 + tx.i0, (1 - tx.t) * (1 - ty.t)}, {r0 + tx.i1, tx.t * (1 - ty.t)},
				{r1 + tx.i0, (1 - tx.t) * ty.t}, {r1 + tx.i1, tx.t * ty.t}} {
				if bgOK[q.i] && q.wt > bestB {
					bestB = q.wt
					B = [3]float32{bgRGB[3*q.i], bgRGB[3*q.i+1], bgRGB[3*q.i+2]}
				}
				if fgOK[q.i] && q.wt > bestF {
					bestF, fOK = q.wt, true
					F = [3]float32{fgRGB[3*q.i], fgRGB[3*q.i+1], fgRGB[3*q.i+2]}
				}
			}
			if bestB < 0 {
				B = [3]float32{medR, medG, medB}
			}
			C := [3]float32{float32(srow[s]), float32(srow[s+1]), float32(srow[s+2])}
			alpha := m
			if fOK {
				v := [3]float32{F[0] - B[0], F[1] - B[1], F[2] - B[2]}
				n2 := v[0]*v[0] + v[1]*v[1] + v[2]*v[2]
				if n2 >= 400 {
					p := ((C[0]-B[0])*v[0] + (C[1]-B[1])*v[1] + (C[2]-B[2])*v[2]) / n2
					alpha = clampF(p, max(0, m-0.5), min(1, m+0.5))
				}
			}
			o := 4 * dx
			// Keep the backdrop colour in the colour channels for now; decontaminate
			// after the feather, when the final alpha is known.
			drow[o], drow[o+1], drow[o+2] = srow[s], srow[s+1], srow[s+2]
			drow[o+3] = uint8(alpha*255 + 0.5)
			band = append(band, int32(dy*dst.Rect.Dx()+dx))
		}
	}
	featherAndDecontaminate(dst, band, img, box, wi, bgRGB, bgOK, [3]float32{medR, medG, medB})
	return cropToAlpha(dst, box)
}

// productBox is the part of the W×H image the product's work pixels cover, with a
// margin of one work pixel (to the image's edge where the product touches it);
// ok is false when the mask holds no product.
func productBox(mask []uint8, wi *workImage, W, H int) (box image.Rectangle, ok bool) {
	w, h, k := wi.w, wi.h, wi.k
	wb := image.Rectangle{Min: image.Pt(w, h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if mask[y*w+x] == maskProduct {
				wb = wb.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if wb.Empty() {
		return image.Rectangle{}, false
	}
	box = image.Rect(wb.Min.X*k-k, wb.Min.Y*k-k, wb.Max.X*k+k, wb.Max.Y*k+k).Intersect(image.Rect(0, 0, W, H))
	if wb.Max.X == w {
		box.Max.X = W
	}
	if wb.Max.Y == h {
		box.Max.Y = H
	}
	return box, true
}

// workTap is where a full-resolution column or row falls on the work grid: between
// work pixels i0 and i1, t of the way.
type workTap struct {
	i0, i1 int
	t      float32
}

// workTaps are the bilinear sampling positions of full-resolution columns (or rows)
// lo to hi on a work grid n pixels wide, k full-resolution pixels to one.
func workTaps(lo, hi, n, k int) []workTap {
	out := make([]workTap, hi-lo)
	for p := lo; p < hi; p++ {
		f := (float32(p)+0.5)/float32(k) - 0.5
		i := int(math.Floor(float64(f)))
		t := f - float32(i)
		out[p-lo] = workTap{min(max(i, 0), n-1), min(max(i+1, 0), n-1), t}
	}
	return out
}

// cropToAlpha cuts dst, which covers box of the full image, to its visible pixels,
// and returns it with its bounds in the full image; nil when nothing is visible.
func cropToAlpha(dst *image.NRGBA, box image.Rectangle) (*image.NRGBA, image.Rectangle) {
	tight := alphaBounds(dst)
	if tight.Empty() {
		return nil, image.Rectangle{}
	}
	sub := dst.SubImage(tight).(*image.NRGBA)
	out := &image.NRGBA{Pix: sub.Pix, Stride: sub.Stride, Rect: image.Rect(0, 0, tight.Dx(), tight.Dy())}
	return out, tight.Add(box.Min)
}

// featherAndDecontaminate softens edge alpha with a 3×3 [1 2 1] kernel and removes the
// local backdrop colour from every edge pixel.
func featherAndDecontaminate(dst *image.NRGBA, band []int32, img *image.NRGBA, box image.Rectangle,
	wi *workImage, bgRGB []float32, bgOK []bool, fallback [3]float32) {
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	soft := make([]uint8, len(band))
	for j, p := range band {
		x, y := int(p)%dw, int(p)/dw
		var sum, wsum int
		for oy := -1; oy <= 1; oy++ {
			yy := y + oy
			if yy < 0 || yy >= dh {
				continue
			}
			for ox := -1; ox <= 1; ox++ {
				xx := x + ox
				if xx < 0 || xx >= dw {
					continue
				}
				wt := (2 - abs(ox)) * (2 - abs(oy))
				sum += wt * int(dst.Pix[yy*dst.Stride+4*xx+3])
				wsum += wt
			}
		}
		soft[j] = uint8((sum + wsum/2) / wsum)
	}
	k := wi.k
	for j, p := range band {
		x, y := int(p)%dw, int(p)/dw
		o := y*dst.Stride + 4*x
		a := soft[j]
		if a < 5 {
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = 0, 0, 0, 0
			continue
		}
		wx := min((box.Min.X+x)/k, wi.w-1)
		wy := min((box.Min.Y+y)/k, wi.h-1)
		B := fallback
		if i := wy*wi.w + wx; bgOK[i] {
			B = [3]float32{bgRGB[3*i], bgRGB[3*i+1], bgRGB[3*i+2]}
		}
		al := float32(a) / 255
		for c := 0; c < 3; c++ {
			v := (float32(dst.Pix[o+c]) - (1-al)*B[c]) / al
			dst.Pix[o+c] = uint8(clampF(v, 0, 255) + 0.5)
		}
		dst.Pix[o+3] = a
	}
}

// alphaBounds is the smallest rectangle holding every pixel with alpha ≥ 8.
func alphaBounds(img *image.NRGBA) image.Rectangle {
	r := image.Rectangle{}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	minX, minY, maxX, maxY := w, h, -1, -1
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := 3; x < len(row); x += 4 {
			if row[x] >= 8 {
				px := x / 4
				minX, maxX = min(minX, px), max(maxX, px)
				minY, maxY = min(minY, y), max(maxY, y)
			}
		}
	}
	if maxX >= 0 {
		r = image.Rect(minX, minY, maxX+1, maxY+1).Add(img.Rect.Min)
	}
	return r
}

// hasTransparentBorder reports whether most of the photo's outer frame is transparent,
// i.e. the photo is already a cut-out.
func hasTransparentBorder(img *image.NRGBA) bool {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	clear, total := 0, 0
	check := func(x, y int) {
		total++
		if img.Pix[y*img.Stride+4*x+3] < 128 {
			clear++
		}
	}
	for x := 0; x < w; x++ {
		check(x, 0)
		check(x, h-1)
	}
	for y := 0; y < h; y++ {
		check(0, y)
		check(w-1, y)
	}
	return clear*2 > total
}

func cutAlongAlpha(img *image.NRGBA) (*Cutout, error) {
	b := alphaBounds(img)
	if b.Dx()*b.Dy()*500 < img.Rect.Dx()*img.Rect.Dy() {
		return nil, fmt.Errorf("remove background: %w", ErrNoProduct)
	}
	sub := img.SubImage(b).(*image.NRGBA)
	out := &image.NRGBA{Pix: sub.Pix, Stride: sub.Stride, Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	return &Cutout{Image: out, Bounds: b.Sub(img.Rect.Min)}, nil
}

func bilinear(a, b, c, d, tx, ty float32) float32 {
	return (a*(1-tx)+b*tx)*(1-ty) + (c*(1-tx)+d*tx)*ty
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// labToRGB converts Lab back to sRGB channels in [0, 255].
func labToRGB(c lab) (r, g, b float32) {
	fy := (c.L + 16) / 116
	fx := fy + c.A/500
	fz := fy - c.B/200
	inv := func(f float32) float32 {
		if f3 := f * f * f; f3 > 0.008856 {
			return f3
		}
		return (f - 16.0/116) / 7.787
	}
	x, y, z := inv(fx)*0.95047, inv(fy), inv(fz)*1.08883
	lr := 3.2404542*x - 1.5371385*y - 0.4985314*z
	lg := -0.9692660*x + 1.8760108*y + 0.0415560*z
	lb := 0.0556434*x - 0.2040259*y + 1.0572252*z
	enc := func(v float32) float32 {
		v = clampF(v, 0, 1)
		if v <= 0.0031308 {
			return 255 * 12.92 * v
		}
		return 255 * float32(1.055*math.Pow(float64(v), 1/2.4)-0.055)
	}
	return enc(lr), enc(lg), enc(lb)
}

func nrgbaOfLab(c lab) color.NRGBA {
	r, g, b := labToRGB(c)
	return color.NRGBA{uint8(r + 0.5), uint8(g + 0.5), uint8(b + 0.5), 255}
}
