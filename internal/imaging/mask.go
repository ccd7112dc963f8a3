package imaging

// shadowOpenMin is the share of a shadow region's outline, in percent, that must fade
// into the backdrop for the region to be taken as shadow.
const shadowOpenMin = 40

// Mask states on the work grid.
const (
	maskProduct    uint8 = 0
	maskBackground uint8 = 1
)

// floodBackground marks as background every work pixel reachable from the border through
// backdrop-coloured pixels, or through soft shadow: pixels darker than the backdrop, of
// the same hue, with no sharp edge. Product outlines are sharp, so the flood stops there
// even when a product is grey like its shadow. A region taken as shadow that is
// mostly walled in by product outline is a product face that merely touches a shadow
// of its own colour, and is given back to the product. It returns the mask and the
// distance of every pixel to the backdrop model.
func floodBackground(wi *workImage, m *bgModel) (mask []uint8, dist []float32, thi float32) {
	w, h := wi.w, wi.h
	n := w * h
	thi = clampF(7+3*m.noise, 8, 20)
	chromaMax := 4 + 2*m.noise
	gradMax := clampF(2.5+3*m.noise, 3, 8)

	dist = make([]float32, n)
	for i := range dist {
		dist[i] = deltaE(wi.lab[i], m.at[i])
	}
	grad := func(i int) float32 {
		x, y := i%w, i/w
		l, r := max(x-1, 0), min(x+1, w-1)
		u, d := max(y-1, 0), min(y+1, h-1)
		gx := deltaE(wi.lab[y*w+l], wi.lab[y*w+r]) / float32(r-l)
		gy := deltaE(wi.lab[u*w+x], wi.lab[d*w+x]) / float32(d-u)
		return max(gx, gy)
	}
	backdrop := func(i int) bool { return dist[i] < thi }
	shadow := func(i int) bool {
		if dist[i] < thi {
			return true
		}
		c, b := wi.lab[i], m.at[i]
		return c.L < b.L && b.L-c.L < 40 && chromaDiff(c, b) < chromaMax && grad(i) < gradMax
	}
	strict := flood(w, h, backdrop)
	mask = flood(w, h, shadow)

	// Regions the shadow rule added. A cast shadow fades into the backdrop along much of
	// its outline; a region that is mostly walled in by product outline is product.
	labels, areas := components(w, h, func(i int) bool {
		return mask[i] == maskBackground && strict[i] == maskProduct
	})
	// perimeter counts each region's outline pixels; open those touching the backdrop.
	open, perimeter := make([]int, len(areas)), make([]int, len(areas))
	for i, l := range labels {
		if l == 0 {
			continue
		}
		x, y := i%w, i/w
		onBackdrop, onOther := false, false
		for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
			switch {
			case j == i-1 && x == 0, j == i+1 && x == w-1, j == i-w && y == 0, j == i+w && y == h-1:
				continue
			}
			switch {
			case labels[j] == l:
			case strict[j] == maskBackground:
				onBackdrop = true
			default:
				onOther = true
			}
		}
		if onBackdrop || onOther {
			perimeter[l]++
		}
		if onBackdrop {
			open[l]++
		}
	}
	for i, l := range labels {
		if l != 0 && open[l]*100 < perimeter[l]*shadowOpenMin {
			mask[i] = maskProduct
		}
	}
	return mask, dist, thi
}

// flood returns a mask with maskBackground on every pixel connected to the image border
// through pixels where passable is true.
func flood(w, h int, passable func(i int) bool) []uint8 {
	mask := make([]uint8, w*h) // all product until reached
	queue := make([]int32, 0, 4*(w+h))
	seed := func(i int) {
		if mask[i] == maskProduct && passable(i) {
			mask[i] = maskBackground
			queue = append(queue, int32(i))
		}
	}
	for x := 0; x < w; x++ {
		seed(x)
		seed((h-1)*w + x)
	}
	for y := 0; y < h; y++ {
		seed(y * w)
		seed(y*w + w - 1)
	}
	for len(queue) > 0 {
		i := int(queue[len(queue)-1])
		queue = queue[:len(queue)-1]
		x, y := i%w, i/w
		if x > 0 {
			seed(i - 1)
		}
		if x < w-1 {
			seed(i + 1)
		}
		if y > 0 {
			seed(i - w)
		}
		if y < h-1 {
			seed(i + w)
		}
	}
	return mask
}

// peelEdge hands back to the background, up to passes pixels deep, product pixels on
// the outline whose own (unblurred) colour is within thi of the background pixels next
// to them: the blur that keeps noise out of the flood also lets a shadow's darkest rim,
// right against the product, look like an edge.
func peelEdge(wi *workImage, mask []uint8, thi float32, passes int) {
	w, h := wi.w, wi.h
	at := func(i int) lab { return labFromRGB(wi.rgb[3*i], wi.rgb[3*i+1], wi.rgb[3*i+2]) }
	var peel []int
	for pass := 0; pass < passes; pass++ {
		peel = peel[:0]
		for i, v := range mask {
			if v != maskProduct {
				continue
			}
			x, y := i%w, i/w
			var sum lab
			n := float32(0)
			for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
				switch {
				case j == i-1 && x == 0, j == i+1 && x == w-1, j == i-w && y == 0, j == i+w && y == h-1:
					continue
				}
				if mask[j] == maskBackground {
					c := at(j)
					sum.L, sum.A, sum.B = sum.L+c.L, sum.A+c.A, sum.B+c.B
					n++
				}
			}
			if n == 0 {
				continue
			}
			mean := lab{sum.L / n, sum.A / n, sum.B / n}
			if deltaE(at(i), mean) < thi {
				peel = append(peel, i)
			}
		}
		if len(peel) == 0 {
			return
		}
		for _, i := range peel {
			mask[i] = maskBackground
		}
	}
}

// cleanMask turns large enclosed backdrop-coloured regions (the hole in a mug's handle)
// into background, and drops specks: product components smaller than 1 % of the largest.
// It returns the product's area in work pixels.
func cleanMask(mask []uint8, dist []float32, thi float32, w, h int) int {
	productArea := 0
	for _, v := range mask {
		if v == maskProduct {
			productArea++
		}
	}
	// Enclosed holes: unreached regions that look like backdrop.
	holeMin := max(16, productArea/50)
	labels, areas := components(w, h, func(i int) bool { return mask[i] == maskProduct && dist[i] < thi })
	// A real hole shows the backdrop itself, so it matches the model closely all over; a
	// band of product shading that merely passes through the backdrop's colour does not.
	distSum := make([]float32, len(areas))
	for i, l := range labels {
		if l > 0 {
			distSum[l] += dist[i]
		}
	}
	for i, l := range labels {
		if l > 0 && areas[l] >= holeMin && distSum[l] < float32(areas[l])*thi/3 {
			mask[i] = maskBackground
		}
	}
	// Specks.
	labels, areas = components(w, h, func(i int) bool { return mask[i] == maskProduct })
	largest := 0
	for _, a := range areas {
		largest = max(largest, a)
	}
	area := 0
	for i, l := range labels {
		if l == 0 {
			continue
		}
		if areas[l]*100 < largest {
			mask[i] = maskBackground
		} else {
			area++
		}
	}
	return area
}

// components labels the 4-connected components of the pixels where in is true. Label 0
// means "not in"; areas[label] is each component's pixel count.
func components(w, h int, in func(i int) bool) (labels []int32, areas []int) {
	labels = make([]int32, w*h)
	areas = []int{0}
	var stack []int32
	for start := range labels {
		if labels[start] != 0 || !in(start) {
			continue
		}
		l := int32(len(areas))
		areas = append(areas, 0)
		labels[start] = l
		stack = append(stack[:0], int32(start))
		for len(stack) > 0 {
			i := int(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			areas[l]++
			x, y := i%w, i/w
			for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
				switch {
				case j == i-1 && x == 0, j == i+1 && x == w-1, j == i-w && y == 0, j == i+w && y == h-1:
					continue
				}
				if labels[j] == 0 && in(j) {
					labels[j] = l
					stack = append(stack, int32(j))
				}
			}
		}
	}
	return labels, areas
}

// localColours returns, for every work pixel, the average RGB of nearby pure pixels of
// one class (not on the class boundary), within radius r; ok is false where there are
// none. It lets the edge matting compare an edge pixel with the backdrop and the product
// colours right next to it (a shadow, a gradient, a multi-coloured product). Only the
// product's surroundings (its bounding box grown by r+2) are computed, since the matte
// asks nowhere else.
func localColours(wi *workImage, mask []uint8, class uint8, r int) (rgb []float32, ok []bool) {
	w, h := wi.w, wi.h
	rgb = make([]float32, 3*w*h)
	ok = make([]bool, w*h)
	x0, y0, x1, y1 := w, h, -1, -1
	for i, v := range mask {
		if v == maskProduct {
			x, y := i%w, i/w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
		}
	}
	if x1 < 0 {
		return rgb, ok
	}
	x0, y0 = max(0, x0-r-2), max(0, y0-r-2)
	x1, y1 = min(w-1, x1+r+2), min(h-1, y1+r+2)
	bw, bh := x1-x0+1, y1-y0+1
	sum := make([]float32, 4*bw*bh) // r, g, b, weight over the box
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			i := y*w + x
			if mask[i] != class {
				continue
			}
			if (x > 0 && mask[i-1] != class) || (x < w-1 && mask[i+1] != class) ||
				(y > 0 && mask[i-w] != class) || (y < h-1 && mask[i+w] != class) {
				continue
			}
			j := 4 * ((y-y0)*bw + (x - x0))
			sum[j], sum[j+1], sum[j+2], sum[j+3] = wi.rgb[3*i], wi.rgb[3*i+1], wi.rgb[3*i+2], 1
		}
	}
	sum = boxSum(sum, bw, bh, 4, r)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			j := 4 * ((y-y0)*bw + (x - x0))
			if wt := sum[j+3]; wt > 0.5 {
				i := y*w + x
				rgb[3*i], rgb[3*i+1], rgb[3*i+2] = sum[j]/wt, sum[j+1]/wt, sum[j+2]/wt
				ok[i] = true
			}
		}
	}
	return rgb, ok
}

// boxSum returns the sum over a (2r+1)² window of an interleaved float image with ch
// channels (outside pixels count as zero), using running sums.
func boxSum(src []float32, w, h, ch, r int) []float32 {
	tmp := make([]float32, len(src))
	acc := make([]float32, ch)
	for y := 0; y < h; y++ {
		row := src[y*w*ch : (y+1)*w*ch]
		out := tmp[y*w*ch : (y+1)*w*ch]
		clear(acc)
		for x := 0; x < min(r, w); x++ {
			for c := 0; c < ch; c++ {
				acc[c] += row[x*ch+c]
			}
		}
		for x := 0; x < w; x++ {
			if a := x + r; a < w {
				for c := 0; c < ch; c++ {
					acc[c] += row[a*ch+c]
				}
			}
			if d := x - r - 1; d >= 0 {
				for c := 0; c < ch; c++ {
					acc[c] -= row[d*ch+c]
				}
			}
			o := out[x*ch : x*ch+ch]
			for c := range o {
				o[c] = acc[c]
			}
		}
	}
	dst := make([]float32, len(src))
	colAcc := make([]float32, w*ch)
	for y := 0; y < min(r, h); y++ {
		for i, v := range tmp[y*w*ch : (y+1)*w*ch] {
			colAcc[i] += v
		}
	}
	for y := 0; y < h; y++ {
		if a := y + r; a < h {
			for i, v := range tmp[a*w*ch : (a+1)*w*ch] {
				colAcc[i] += v
			}
		}
		if d := y - r - 1; d >= 0 {
			for i, v := range tmp[d*w*ch : (d+1)*w*ch] {
				colAcc[i] -= v
			}
		}
		copy(dst[y*w*ch:(y+1)*w*ch], colAcc)
	}
	return dst
}

func clampF(v, lo, hi float32) float32 {
	return max(lo, min(hi, v))
}

// softOutlineMax is the largest share of the product's outline that may run through
// smooth colour (no edge) before the cut-out is refused: past it, the mask follows the
// product's own shading rather than its outline (a grey product on a grey backdrop).
const softOutlineMax = 0.6

// softOutline returns the share of the product's outline pixels where the blurred
// image has almost no gradient (under 1.5 ΔE per pixel).
func softOutline(wi *workImage, mask []uint8) float64 {
	w, h := wi.w, wi.h
	soft, total := 0, 0
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if mask[i] != maskProduct || (mask[i-1] != maskBackground && mask[i+1] != maskBackground &&
				mask[i-w] != maskBackground && mask[i+w] != maskBackground) {
				continue
			}
			total++
			gx := deltaE(wi.lab[i-1], wi.lab[i+1]) / 2
			gy := deltaE(wi.lab[i-w], wi.lab[i+w]) / 2
			if max(gx, gy) < 1.5 {
				soft++
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(soft) / float64(total)
}
