package imaging

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

var lineInk = [3]uint8{40, 46, 58}

// RenderDimensions shows the product with a width line under it and a height line to
// its right, each with arrowheads, extension lines and a label, and the full size
// (with depth) as a caption. It needs p.Dimensions (else ErrMissingProductData).
func RenderDimensions(cut *Cutout, p Product, prof Profile) (*Rendered, error) {
	if p.Dimensions == nil {
		return nil, fmt.Errorf("%w: the dimensions image needs the product's dimensions", ErrMissingProductData)
	}
	d := *p.Dimensions
	W, H := prof.Width, prof.Height
	u := float64(min(W, H)) / 100
	canvas := newCanvas(W, H, white)
	r := &Rendered{Type: TypeDimensions, Image: canvas, Provider: ProviderLocal}
	margin := int(5 * u)

	top := margin
	if title := strings.TrimSpace(p.Title); title != "" {
		tb, err := fitText(title, true, W-2*margin, int(9*u), 5*u, 3*u)
		if err != nil {
			return nil, err
		}
		r.TextRects = append(r.TextRects, tb.draw(canvas, margin, top, inkDark, true, W-2*margin))
		top += tb.height() + int(3*u)
	}
	caption := "W × H"
	if d.Depth > 0 {
		caption = "W × H × D"
	}
	cb, err := fitText(d.String()+"  ("+caption+")", false, W-2*margin, int(6*u), 3.6*u, 2.4*u)
	if err != nil {
		return nil, err
	}
	captionY := H - margin - cb.height()

	// Room for the lines and labels: below the product and to its right.
	labelSize := 4.2 * u
	gapLine := int(5 * u)   // product edge to dimension line
	labelRoom := int(8 * u) // dimension line to the far side of its label
	area := image.Rect(margin+labelRoom, top, W-margin-gapLine-labelRoom-int(14*u), captionY-gapLine-labelRoom)
	r.ProductRect = placeIn(cut, area, false)
	pr := r.ProductRect
	over(canvas, scaleCutout(cut.Image, cut.Image.Rect, pr.Dx(), pr.Dy()), pr.Min)

	thick := max(2, int(0.35*u))
	head := float32(2.2 * u)
	ext := [3]uint8{150, 156, 168}

	// Width: a horizontal line below the product.
	ly := pr.Max.Y + gapLine
	fillRect(canvas, image.Rect(pr.Min.X, pr.Max.Y+int(u), pr.Min.X+thick/2+1, ly+int(1.5*u)), ext)
	fillRect(canvas, image.Rect(pr.Max.X-thick/2-1, pr.Max.Y+int(u), pr.Max.X, ly+int(1.5*u)), ext)
	hLine(canvas, pr.Min.X, pr.Max.X, ly, thick, head)
	// The label is centred under the line, and may be wider than a narrow product.
	lw := min(max(pr.Dx(), int(30*u)), W-2*margin)
	lx0 := min(max((pr.Min.X+pr.Max.X)/2-lw/2, margin), W-margin-lw)
	wl, err := fitText(d.Label(d.Width), true, lw, labelRoom, labelSize, 2.4*u)
	if err != nil {
		return nil, err
	}
	r.TextRects = append(r.TextRects, wl.draw(canvas, lx0, ly+int(1.5*u), inkDark, true, lw))

	// Height: a vertical line right of the product, the label to its right.
	lx := pr.Max.X + gapLine
	fillRect(canvas, image.Rect(pr.Max.X+int(u), pr.Min.Y, lx+int(1.5*u), pr.Min.Y+thick/2+1), ext)
	fillRect(canvas, image.Rect(pr.Max.X+int(u), pr.Max.Y-thick/2-1, lx+int(1.5*u), pr.Max.Y), ext)
	vLine(canvas, lx, pr.Min.Y, pr.Max.Y, thick, head)
	hlW := W - margin - (lx + int(2*u))
	hl, err := fitText(d.Label(d.Height), true, hlW, pr.Dy(), labelSize, 2.4*u)
	if err != nil {
		return nil, err
	}
	r.TextRects = append(r.TextRects, hl.draw(canvas, lx+int(2*u), (pr.Min.Y+pr.Max.Y)/2-hl.height()/2, inkDark, false, hlW))

	r.TextRects = append(r.TextRects, cb.draw(canvas, margin, captionY, inkMuted, true, W-2*margin))
	return r, nil
}

// hLine draws a horizontal dimension line from x0 to x1 at y with arrowheads.
func hLine(dst *image.RGBA, x0, x1, y, thick int, head float32) {
	c := color.RGBA{lineInk[0], lineInk[1], lineInk[2], 255}
	fillRect(dst, image.Rect(x0+int(head/2), y-thick/2, x1-int(head/2), y-thick/2+thick), lineInk)
	fy := float32(y) + 0.5
	fillPolygon(dst, c, [2]float32{float32(x0), fy}, [2]float32{float32(x0) + head, fy - head/2}, [2]float32{float32(x0) + head, fy + head/2})
	fillPolygon(dst, c, [2]float32{float32(x1), fy}, [2]float32{float32(x1) - head, fy - head/2}, [2]float32{float32(x1) - head, fy + head/2})
}

// vLine draws a vertical dimension line from y0 to y1 at x with arrowheads.
func vLine(dst *image.RGBA, x, y0, y1, thick int, head float32) {
	c := color.RGBA{lineInk[0], lineInk[1], lineInk[2], 255}
	fillRect(dst, image.Rect(x-thick/2, y0+int(head/2), x-thick/2+thick, y1-int(head/2)), lineInk)
	fx := float32(x) + 0.5
	fillPolygon(dst, c, [2]float32{fx, float32(y0)}, [2]float32{fx - head/2, float32(y0) + head}, [2]float32{fx + head/2, float32(y0) + head})
	fillPolygon(dst, c, [2]float32{fx, float32(y1)}, [2]float32{fx - head/2, float32(y1) - head}, [2]float32{fx + head/2, float32(y1) - head})
}
