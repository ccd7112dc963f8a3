package imaging

import (
	"fmt"
	"strconv"
	"strings"
)

// Dimensions are a product's measured size: width × height × depth, in that order, as
// sellers write them ("30 x 20 x 10 cm"). Depth is 0 when only two values were given.
type Dimensions struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Depth  float64 `json:"depth,omitempty"`
	// Unit is "mm", "cm", "m", "in" or "ft".
	Unit string `json:"unit"`
}

var unitNames = map[string]string{
	"mm": "mm", "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
	"cm": "cm", "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
	"m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
	"in": "in", "inch": "in", "inches": "in", `"`: "in", "″": "in",
	"ft": "ft", "foot": "ft", "feet": "ft", "'": "ft", "′": "ft",
}

// ParseDimensions reads "W x H [x D] unit": "30 x 20 x 10 cm", "12x9x10in",
// "30cm × 20cm", "4.5 x 3,5 in". The separator is x, X, × or *; decimal commas are
// accepted; a unit may follow every value but all must agree. Errors wrap
// ErrInvalidDimensions and say what is wrong.
func ParseDimensions(s string) (Dimensions, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Dimensions{}, fmt.Errorf("%w: empty; write e.g. \"30 x 20 x 10 cm\"", ErrInvalidDimensions)
	}
	norm := strings.NewReplacer("×", "x", "X", "x", "*", "x").Replace(in)
	parts := strings.Split(norm, "x")
	if len(parts) < 2 || len(parts) > 3 {
		return Dimensions{}, fmt.Errorf("%w %q: give 2 or 3 values separated by x, e.g. \"30 x 20 x 10 cm\"",
			ErrInvalidDimensions, s)
	}
	var vals []float64
	unit := ""
	for i, p := range parts {
		p = strings.TrimSpace(p)
		num, rest := splitNumber(p)
		if num == "" {
			return Dimensions{}, fmt.Errorf("%w %q: value %d (%q) is not a number", ErrInvalidDimensions, s, i+1, p)
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(num, ",", "."), 64)
		if err != nil || v <= 0 || v > 1e6 {
			return Dimensions{}, fmt.Errorf("%w %q: value %d (%q) must be a positive number", ErrInvalidDimensions, s, i+1, num)
		}
		vals = append(vals, v)
		if rest = strings.TrimSpace(rest); rest != "" {
			u, ok := unitNames[strings.ToLower(rest)]
			if !ok {
				return Dimensions{}, fmt.Errorf("%w %q: unknown unit %q (use mm, cm, m, in or ft)", ErrInvalidDimensions, s, rest)
			}
			if unit != "" && u != unit {
				return Dimensions{}, fmt.Errorf("%w %q: mixed units %s and %s", ErrInvalidDimensions, s, unit, u)
			}
			unit = u
		}
	}
	if unit == "" {
		return Dimensions{}, fmt.Errorf("%w %q: no unit; add mm, cm, m, in or ft", ErrInvalidDimensions, s)
	}
	d := Dimensions{Width: vals[0], Height: vals[1], Unit: unit}
	if len(vals) == 3 {
		d.Depth = vals[2]
	}
	return d, nil
}

// splitNumber splits a leading decimal number (digits, one '.' or ',') from the rest.
func splitNumber(s string) (num, rest string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
		i++
	}
	return s[:i], s[i:]
}

// String formats the dimensions as "30 × 20 × 10 cm".
func (d Dimensions) String() string {
	s := formatLength(d.Width) + " × " + formatLength(d.Height)
	if d.Depth > 0 {
		s += " × " + formatLength(d.Depth)
	}
	return s + " " + d.Unit
}

// Label formats one value with the unit: "30 cm", `12.5 in`.
func (d Dimensions) Label(v float64) string {
	return formatLength(v) + " " + d.Unit
}

func formatLength(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
