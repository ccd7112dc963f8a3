package imaging

import (
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
)

// Infographic colours.
var (
	inkDark  = color.RGBA{28, 33, 43, 255}
	inkMuted = color.RGBA{88, 96, 110, 255}
	accent   = color.RGBA{0, 113, 133, 255}
	cardFill = color.RGBA{242, 245, 247, 255}
)

// RenderInfographic shows the product on the left and up to MaxFeatures feature
// callouts on the right, under the title. All text is set in the embedded Go fonts,
// wrapped and sized to fit its card; the product's area and the text areas never
// overlap. It needs at least one feature (else ErrMissingProductData).
func RenderInfographic(cut *Cutout, p Product, prof Profile) (*Rendered, error) {
	features := cleanFeatures(p.Features)
	if len(features) == 0 {
		return nil, fmt.Errorf("%w: the infographic needs at least one feature", ErrMissingProductData)
	}
	W, H := prof.Width, prof.Height
	u := float64(min(W, H)) / 100 // layout unit: 1 % of the short side
	canvas := newCanvas(W, H, white)
	r := &Rendered{Type: TypeInfographic, Image: canvas, Provider: ProviderLocal}

	margin := int(5 * u)
	top := margin
	if title := strings.TrimSpace(p.Title); title != "" {
		tb, err := fitText(title, true, W-2*margin, int(11*u), 6*u, 3*u)
		if err != nil {
			return nil, err
		}
		r.TextRects = append(r.TextRects, tb.draw(canvas, margin, top, inkDark, false, W-2*margin))
		top += tb.height() + int(2*u)
		fillRect(canvas, image.Rect(margin, top, margin+int(12*u), top+int(0.8*u)), [3]uint8{accent.R, accent.G, accent.B})
		top += int(4 * u)
	}

	// Product on the left 45 %, callouts on the right.
	split := margin + int(0.45*float64(W-2*margin))
	productArea := image.Rect(margin, top, split, H-margin)
	r.ProductRect = placeIn(cut, productArea, false)
	over(canvas, scaleCutout(cut.Image, cut.Image.Rect, r.ProductRect.Dx(), r.ProductRect.Dy()), r.ProductRect.Min)

	col := image.Rect(split+int(4*u), top, W-margin, H-margin)
	gap := int(2.5 * u)
	cardH := (col.Dy() - gap*(len(features)-1)) / len(features)
	cardH = min(cardH, int(22*u))
	// Centre the stack of cards vertically in the column.
	stackH := cardH*len(features) + gap*(len(features)-1)
	y := col.Min.Y + (col.Dy()-stackH)/2
	badge := int(7 * u)
	pad := int(2.5 * u)
	textX := col.Min.X + pad + badge + pad
	textW := col.Max.X - pad - textX
	textH := cardH - int(2.4*u)
	// One font size for every callout: the largest at which each fits its card.
	size := 4.0 * u
	for _, f := range features {
		tb, err := fitText(f, false, textW, textH, size, 2.2*u)
		if err != nil {
			return nil, err
		}
		size = min(size, tb.size)
	}
	for i, f := range features {
		card := image.Rect(col.Min.X, y, col.Max.X, y+cardH)
		fillRoundRect(canvas, card, float32(2*u), cardFill)
		cy := float32(card.Min.Y + cardH/2)
		fillCircle(canvas, float32(col.Min.X+pad+badge/2), cy, float32(badge)/2, accent)
		nb, err := fitText(strconv.Itoa(i+1), true, badge, badge, 4*u, 2*u)
		if err != nil {
			return nil, err
		}
		nb.draw(canvas, col.Min.X+pad, int(cy)-nb.height()/2, color.White, true, badge)
		tb, err := fitText(f, false, textW, textH, size, size)
		if err != nil {
			return nil, err
		}
		tb.draw(canvas, textX, card.Min.Y+(cardH-tb.height())/2, inkDark, false, textW)
		r.TextRects = append(r.TextRects, card)
		y += cardH + gap
	}
	return r, nil
}

// cleanFeatures trims the features, drops empty ones and keeps the first MaxFeatures.
func cleanFeatures(fs []string) []string {
	var out []string
	for _, f := range fs {
		if f = strings.Join(strings.Fields(f), " "); f != "" {
			out = append(out, f)
		}
		if len(out) == MaxFeatures {
			break
		}
	}
	return out
}
