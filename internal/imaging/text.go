package imaging

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

var fonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return [2]*opentype.Font{}, fmt.Errorf("parse Go Regular: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return [2]*opentype.Font{}, fmt.Errorf("parse Go Bold: %w", err)
	}
	return [2]*opentype.Font{regular, bold}, nil
})

// newFace returns the embedded Go font (bold or regular) at size pixels.
func newFace(bold bool, size float64) (font.Face, error) {
	fs, err := fonts()
	if err != nil {
		return nil, err
	}
	f := fs[0]
	if bold {
		f = fs[1]
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("font face: %w", err)
	}
	return face, nil
}

// textBlock is text wrapped to a width at one font size.
type textBlock struct {
	face       font.Face
	lines      []string
	lineHeight int // baseline to baseline, in pixels
	ascent     int
	width      int     // widest line, in pixels
	size       float64 // font size, in pixels
}

// height is the block's height in pixels.
func (b textBlock) height() int {
	if len(b.lines) == 0 {
		return 0
	}
	return (len(b.lines)-1)*b.lineHeight + b.ascent + b.face.Metrics().Descent.Ceil()
}

// wrap breaks text into lines no wider than maxW at the face's size. A word wider than
// maxW on its own is split by characters.
func wrap(face font.Face, text string, maxW int) textBlock {
	m := face.Metrics()
	b := textBlock{face: face, lineHeight: (m.Height.Ceil() * 21) / 20, ascent: m.Ascent.Ceil()}
	limit := fixed.I(maxW)
	var line string
	flush := func() {
		if line != "" {
			b.lines = append(b.lines, line)
			b.width = max(b.width, font.MeasureString(face, line).Ceil())
			line = ""
		}
	}
	for _, word := range strings.Fields(text) {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if font.MeasureString(face, cand) <= limit {
			line = cand
			continue
		}
		flush()
		for font.MeasureString(face, word) > limit {
			// Split a long word at the last rune that fits.
			cut := 1
			for i := range word {
				if i > 0 && font.MeasureString(face, word[:i]) > limit {
					break
				}
				if i > 0 {
					cut = i
				}
			}
			b.lines = append(b.lines, word[:cut])
			b.width = max(b.width, font.MeasureString(face, word[:cut]).Ceil())
			word = word[cut:]
		}
		line = word
	}
	flush()
	return b
}

// fitText wraps text into maxW×maxH at the largest size from maxSize down to minSize
// (in 2 px steps) that fits; at minSize it keeps the lines that fit and ends the last
// with an ellipsis.
func fitText(text string, bold bool, maxW, maxH int, maxSize, minSize float64) (textBlock, error) {
	for size := maxSize; ; size -= 2 {
		if size < minSize {
			size = minSize
		}
		face, err := newFace(bold, size)
		if err != nil {
			return textBlock{}, err
		}
		b := wrap(face, text, maxW)
		b.size = size
		if b.height() <= maxH || size == minSize {
			for len(b.lines) > 1 && b.height() > maxH {
				b.lines = b.lines[:len(b.lines)-1]
				b.lines[len(b.lines)-1] = strings.TrimRight(b.lines[len(b.lines)-1], " .,;:") + "…"
			}
			return b, nil
		}
	}
}

// draw renders the block with its top-left corner at (x, y), lines aligned left or
// centred in a box of width boxW.
func (b textBlock) draw(dst *image.RGBA, x, y int, col color.Color, centred bool, boxW int) image.Rectangle {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(col), Face: b.face}
	r := image.Rectangle{}
	for i, line := range b.lines {
		w := font.MeasureString(b.face, line).Ceil()
		lx := x
		if centred {
			lx = x + (boxW-w)/2
		}
		base := y + b.ascent + i*b.lineHeight
		d.Dot = fixed.P(lx, base)
		d.DrawString(line)
		r = r.Union(image.Rect(lx, base-b.ascent, lx+w, base+b.face.Metrics().Descent.Ceil()))
	}
	return r
}
