package imaging

import (
	"image"
	"math"
)

// Studio scene colours: a warm paper backdrop meeting a slightly darker floor.
var (
	backdropTop    = [3]float32{238, 233, 226}
	backdropBottom = [3]float32{219, 211, 201}
	floorFar       = [3]float32{205, 196, 185}
	floorNear      = [3]float32{233, 227, 219}
)

// RenderLifestyle is the local stand-in for an AI lifestyle scene: the product standing
// in a rendered studio (backdrop gradient, floor plane, soft light, a cast shadow and a
// contact shadow). Its Provider is ProviderLocal, so the pack says it is not an AI scene.
func RenderLifestyle(cut *Cutout, prof Profile) *Rendered {
	W, H := prof.Width, prof.Height
	canvas := image.NewRGBA(image.Rect(0, 0, W, H))
	horizon := int(0.66 * float64(H))
	paintStudio(canvas, horizon)

	// The product stands on the floor a little in front of the horizon.
	floorY := horizon + int(0.17*float64(H))
	area := image.Rect(int(0.2*float64(W)), int(0.12*float64(H)), int(0.8*float64(W)), floorY)
	rect := placeIn(cut, area, true)
	scaled := scaleCutout(cut.Image, cut.Image.Rect, rect.Dx(), rect.Dy())
	castShadow(canvas, scaled, rect)
	contactShadow(canvas, rect)
	over(canvas, scaled, rect.Min)
	return &Rendered{Type: TypeLifestyle, Image: canvas, Provider: ProviderLocal, ProductRect: rect}
}

// paintStudio fills the canvas with the backdrop above horizon and the floor below, a
// soft blend between them and a light pool behind the product.
func paintStudio(dst *image.RGBA, horizon int) {
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	blend := max(2, H/40)
	row := make([]float32, 3)
	// Light pool: up to +6 % brightness behind the product, a separable Gaussian.
	lightX := make([]float32, W)
	for x := range lightX {
		fx := (float64(x)/float64(W) - 0.5) / 0.6
		lightX[x] = float32(math.Exp(-2 * fx * fx))
	}
	for y := 0; y < H; y++ {
		var top, bottom [3]float32
		var t float32
		if y < horizon {
			top, bottom, t = backdropTop, backdropBottom, float32(y)/float32(horizon)
		} else {
			top, bottom, t = floorFar, floorNear, float32(y-horizon)/float32(H-horizon)
		}
		for c := 0; c < 3; c++ {
			row[c] = top[c] + (bottom[c]-top[c])*t
		}
		// Soften the horizon line.
		if d := y - horizon; d > -blend && d < blend {
			k := float32(d+blend) / float32(2*blend)
			k = k * k * (3 - 2*k)
			for c := 0; c < 3; c++ {
				above := backdropBottom[c]
				below := floorFar[c]
				row[c] = above + (below-above)*k
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*W]
		fy := (float64(y)/float64(H) - 0.42) / 0.55
		lightY := 0.06 * float32(math.Exp(-2*fy*fy))
		for x := 0; x < W; x++ {
			light := 1 + lightY*lightX[x]
			out[4*x] = uint8(min(255, row[0]*light))
			out[4*x+1] = uint8(min(255, row[1]*light))
			out[4*x+2] = uint8(min(255, row[2]*light))
			out[4*x+3] = 255
		}
	}
}

// contactShadow darkens an ellipse under the product's base, where it touches the floor.
func contactShadow(dst *image.RGBA, rect image.Rectangle) {
	cx := float64(rect.Min.X+rect.Max.X) / 2
	cy := float64(rect.Max.Y) - 0.01*float64(rect.Dy())
	a := 0.55 * float64(rect.Dx())
	b := max(6, 0.05*float64(rect.Dx()))
	box := image.Rect(int(cx-a), int(cy-b), int(cx+a)+1, int(cy+b)+1).Intersect(dst.Rect)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		dy := (float64(y) - cy) / b
		row := dst.Pix[y*dst.Stride:]
		for x := box.Min.X; x < box.Max.X; x++ {
			dx := (float64(x) - cx) / a
			d := dx*dx + dy*dy
			if d >= 1 {
				continue
			}
			k := float32(1 - 0.45*math.Pow(1-d, 2))
			o := 4 * x
			row[o] = uint8(float32(row[o]) * k)
			row[o+1] = uint8(float32(row[o+1]) * k)
			row[o+2] = uint8(float32(row[o+2]) * k)
		}
	}
}

// castShadow lays a soft shadow of the product's silhouette on the floor behind it, as
// if lit from the front left: the silhouette squashed to a fifth of its height, slanted
// back to the right, and blurred.
func castShadow(dst *image.RGBA, scaled *image.RGBA, rect image.Rectangle) {
	const step = 4 // work at quarter resolution; the shadow is soft anyway
	sw, sh := scaled.Rect.Dx()/step, scaled.Rect.Dy()/step
	if sw < 4 || sh < 4 {
		return
	}
	// Shadow grid in quarter-resolution canvas coordinates.
	gh := max(2, sh/5)
	pad := max(8, max(sw, sh)/6)
	gw := sw + gh + 2*pad
	grid := make([]float32, gw*(gh+2*pad))
	gstride := gw
	for y := 0; y < sh; y++ {
		// Row y of the silhouette lands at shadow row (y / 5), shifted right as it rises.
		ty := pad + y*gh/sh
		shift := (sh - y) * gh / sh
		for x := 0; x < sw; x++ {
			a := float32(scaled.Pix[(y*step)*scaled.Stride+4*(x*step)+3]) / 255
			gi := ty*gstride + pad + x + shift
			grid[gi] = max(grid[gi], a)
		}
	}
	gH := gh + 2*pad
	// Fade with distance from the base: a shadow is darkest where the product stands.
	for y := pad; y < pad+gh; y++ {
		k := 0.35 + 0.65*float32(y-pad)/float32(max(1, gh-1))
		row := grid[y*gstride : (y+1)*gstride]
		for i := range row {
			row[i] *= k
		}
	}
	rad := max(3, max(sw, sh)/24)
	for pass := 0; pass < 3; pass++ {
		grid = boxSum(grid, gw, gH, 1, rad)
		n := float32((2*rad + 1) * (2*rad + 1))
		for i := range grid {
			grid[i] /= n
		}
	}
	// The shadow's bottom edge meets the product's base.
	ox := rect.Min.X - pad*step
	oy := rect.Max.Y - (pad+gh)*step
	for y := 0; y < gH*step; y++ {
		cy := oy + y
		if cy < 0 || cy >= dst.Rect.Dy() {
			continue
		}
		row := dst.Pix[cy*dst.Stride:]
		gy := y / step
		for x := 0; x < gw*step; x++ {
			cx := ox + x
			if cx < 0 || cx >= dst.Rect.Dx() {
				continue
			}
			s := grid[gy*gstride+x/step]
			if s <= 0.01 {
				continue
			}
			k := 1 - 0.3*s
			o := 4 * cx
			row[o] = uint8(float32(row[o]) * k)
			row[o+1] = uint8(float32(row[o+1]) * k)
			row[o+2] = uint8(float32(row[o+2]) * k)
		}
	}
}
