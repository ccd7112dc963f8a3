package imaging

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/vector"
)

// fillPath fills an anti-aliased path with col. The path is built in canvas coordinates
// by build; only the bounds rectangle is rasterised, so small shapes stay cheap on a
// large canvas.
func fillPath(dst *image.RGBA, bounds image.Rectangle, col color.Color, build func(z *vector.Rasterizer, ox, oy float32)) {
	bounds = bounds.Intersect(dst.Rect)
	if bounds.Empty() {
		return
	}
	z := vector.NewRasterizer(bounds.Dx(), bounds.Dy())
	build(z, float32(bounds.Min.X), float32(bounds.Min.Y))
	z.Draw(dst, bounds, image.NewUniform(col), image.Point{})
}

// fillPolygon fills the polygon through pts.
func fillPolygon(dst *image.RGBA, col color.Color, pts ...[2]float32) {
	r := image.Rectangle{}
	for _, p := range pts {
		r = r.Union(image.Rect(int(math.Floor(float64(p[0]))), int(math.Floor(float64(p[1]))),
			int(math.Ceil(float64(p[0])))+1, int(math.Ceil(float64(p[1])))+1))
	}
	fillPath(dst, r, col, func(z *vector.Rasterizer, ox, oy float32) {
		z.MoveTo(pts[0][0]-ox, pts[0][1]-oy)
		for _, p := range pts[1:] {
			z.LineTo(p[0]-ox, p[1]-oy)
		}
		z.ClosePath()
	})
}

// fillRoundRect fills r with corners of the given radius.
func fillRoundRect(dst *image.RGBA, r image.Rectangle, radius float32, col color.Color) {
	fillPath(dst, r, col, func(z *vector.Rasterizer, ox, oy float32) {
		x0, y0 := float32(r.Min.X)-ox, float32(r.Min.Y)-oy
		x1, y1 := float32(r.Max.X)-ox, float32(r.Max.Y)-oy
		rad := min(radius, (x1-x0)/2, (y1-y0)/2)
		const k = 0.5523 // cubic Bézier circle constant
		z.MoveTo(x0+rad, y0)
		z.LineTo(x1-rad, y0)
		z.CubeTo(x1-rad+k*rad, y0, x1, y0+rad-k*rad, x1, y0+rad)
		z.LineTo(x1, y1-rad)
		z.CubeTo(x1, y1-rad+k*rad, x1-rad+k*rad, y1, x1-rad, y1)
		z.LineTo(x0+rad, y1)
		z.CubeTo(x0+rad-k*rad, y1, x0, y1-rad+k*rad, x0, y1-rad)
		z.LineTo(x0, y0+rad)
		z.CubeTo(x0, y0+rad-k*rad, x0+rad-k*rad, y0, x0+rad, y0)
		z.ClosePath()
	})
}

// fillCircle fills a circle of radius rad centred at (cx, cy).
func fillCircle(dst *image.RGBA, cx, cy, rad float32, col color.Color) {
	fillRoundRect(dst, image.Rect(int(cx-rad+0.5), int(cy-rad+0.5), int(cx+rad+0.5), int(cy+rad+0.5)), rad, col)
}

// fillRect fills r with an opaque colour, directly on the Pix slice.
func fillRect(dst *image.RGBA, r image.Rectangle, c [3]uint8) {
	r = r.Intersect(dst.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := dst.Pix[y*dst.Stride+4*r.Min.X : y*dst.Stride+4*r.Max.X]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = c[0], c[1], c[2], 255
		}
	}
}
