package imaging

import "math"

// srgbToLinear maps an 8-bit sRGB value to linear light in [0, 1].
var srgbToLinear = func() (t [256]float32) {
	for i := range t {
		c := float64(i) / 255
		if c <= 0.04045 {
			t[i] = float32(c / 12.92)
		} else {
			t[i] = float32(math.Pow((c+0.055)/1.055, 2.4))
		}
	}
	return t
}()

// lab is a colour in CIE L*a*b* (D65): L in [0, 100], a and b roughly in [-128, 127].
type lab struct{ L, A, B float32 }

// labFromRGB converts an sRGB colour given as float channels in [0, 255] (already averaged,
// so not necessarily integers) to Lab.
func labFromRGB(r, g, b float32) lab {
	return labFromLinear(linearOf(r), linearOf(g), linearOf(b))
}

// linearOf interpolates srgbToLinear for a non-integer channel value.
func linearOf(v float32) float32 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 1
	}
	i := int(v)
	f := v - float32(i)
	return srgbToLinear[i]*(1-f) + srgbToLinear[i+1]*f
}

func labFromLinear(r, g, b float32) lab {
	x := (0.4124564*r + 0.3575761*g + 0.1804375*b) / 0.95047
	y := 0.2126729*r + 0.7151522*g + 0.0721750*b
	z := (0.0193339*r + 0.1191920*g + 0.9503041*b) / 1.08883
	fx, fy, fz := labF(x), labF(y), labF(z)
	return lab{L: 116*fy - 16, A: 500 * (fx - fy), B: 200 * (fy - fz)}
}

func labF(t float32) float32 {
	if t > 0.008856 {
		return float32(math.Cbrt(float64(t)))
	}
	return 7.787*t + 16.0/116
}

// deltaE is the CIE76 colour difference.
func deltaE(p, q lab) float32 {
	dl, da, db := p.L-q.L, p.A-q.A, p.B-q.B
	return float32(math.Sqrt(float64(dl*dl + da*da + db*db)))
}

// chromaDiff is the colour difference ignoring lightness.
func chromaDiff(p, q lab) float32 {
	da, db := p.A-q.A, p.B-q.B
	return float32(math.Sqrt(float64(da*da + db*db)))
}
