package imaging

import (
	"bytes"
	"encoding/binary"
)

// The decode estimates below model what Go's decoders (image/jpeg, image/png,
// image/gif, x/image/webp) and toNRGBA allocate, measured with runtime.MemStats on
// crafted files (internal/imaging/imagingtest): for a 6400×6250 JPEG, baseline 4:2:0
// costs 5.5 bytes per pixel, baseline 4:4:4 7, progressive 4:4:4 19 (every coefficient
// is kept, 4 bytes each), baseline CMYK 12 and progressive CMYK 28. An EXIF rotation adds
// 4 bytes per pixel. They err on the high side: a file the parser below cannot follow is
// costed as a progressive CMYK JPEG, the worst case.

// decodeOverhead covers the decoders' tables and row buffers.
const decodeOverhead = 1 << 20

// worstBytesPerPixel is the estimate for a file whose structure is not understood: a
// progressive CMYK JPEG with an EXIF rotation.
const worstBytesPerPixel = 32

// costInfo is what the header says about a file's decode cost.
type costInfo struct {
	// costly marks a progressive or CMYK (4-component) JPEG, or a JPEG whose header
	// could not be followed: they get the lower pixel limit.
	costly      bool
	progressive bool
	components  int
	cost        int64
}

// estimateCost estimates the peak memory, in bytes, of decoding data (whose header gave
// format, w and h) to NRGBA, including its EXIF orientation.
func estimateCost(data []byte, format string, w, h int) costInfo {
	px := int64(w) * int64(h)
	worst := costInfo{costly: true, cost: worstBytesPerPixel*px + decodeOverhead}
	switch format {
	case "jpeg":
		sof, ok := jpegFrame(data)
		if !ok {
			return worst
		}
		c := costInfo{progressive: sof.progressive, components: sof.components}
		c.costly = sof.progressive || sof.components == 4
		// Go's decoder keeps whole MCUs: the planes are padded to a multiple of them.
		mxx := (int64(w) + 8*int64(sof.hmax) - 1) / (8 * int64(sof.hmax))
		myy := (int64(h) + 8*int64(sof.vmax) - 1) / (8 * int64(sof.vmax))
		blocks := mxx * myy * int64(sof.blocksPerMCU)
		c.cost = 64 * blocks // one byte per sample, in planes (YCbCr, gray, and K)
		if sof.progressive {
			c.cost += 256 * blocks // 64 coefficients of 4 bytes per block
		}
		c.cost += 4 * px // toNRGBA's result
		if sof.components == 4 {
			c.cost += 4 * px // the CMYK image the decoder returns
		}
		if jpegOrientation(data) != 1 {
			c.cost += 4 * px // the rotated copy
		}
		c.cost += decodeOverhead
		return c
	case "png":
		l, ok := pngLayout(data)
		if !ok {
			return worst
		}
		stored := l.stored
		if l.interlaced {
			// Each of the seven passes is decoded into an image of its own, together the
			// size of the whole one, before being merged into it.
			stored *= 2
		}
		return costInfo{cost: (stored+l.convert)*px + pngRowBuffers(l.bitsPerPixel, w, h, l.interlaced) + decodeOverhead}
	case "gif":
		return costInfo{cost: (1+4)*px + decodeOverhead} // paletted frame, NRGBA
	case "webp":
		if len(data) >= 16 && string(data[12:16]) == "VP8 " {
			return costInfo{cost: 6*px + decodeOverhead} // 4:2:0 YCbCr, RGBA
		}
		// Lossless or extended: 32-bit pixels, a transformed copy, NRGBA.
		return costInfo{cost: 12*px + decodeOverhead}
	}
	return worst
}

// jpegSOF is what the frame header of a JPEG says.
type jpegSOF struct {
	progressive  bool
	components   int
	hmax, vmax   int
	blocksPerMCU int // the sum of the components' sampling factors h×v
}

// jpegFrame finds the first frame header (SOF) of a JPEG, following the marker segments
// from the start of the file the way Go's decoder does. It reports false when it cannot
// follow them or the frame is not one Go decodes.
func jpegFrame(data []byte) (jpegSOF, bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return jpegSOF{}, false
	}
	for i := 2; i+2 <= len(data); {
		if data[i] != 0xFF {
			return jpegSOF{}, false
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker >= 0xD0 && marker <= 0xD7, marker == 0x01: // restart, TEM: no length
			i += 2
			continue
		case marker == 0xDA, marker == 0xD9, marker == 0xD8, marker == 0x00:
			return jpegSOF{}, false // a scan or an end before any frame header
		}
		if i+4 > len(data) {
			return jpegSOF{}, false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return jpegSOF{}, false
		}
		seg := data[i+4 : i+2+n]
		switch marker {
		case 0xC0, 0xC1, 0xC2: // baseline, extended sequential, progressive
			return parseSOF(seg, marker == 0xC2)
		case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return jpegSOF{}, false // lossless, hierarchical, arithmetic: not decoded by Go
		}
		i += 2 + n
	}
	return jpegSOF{}, false
}

func parseSOF(seg []byte, progressive bool) (jpegSOF, bool) {
	if len(seg) < 6 {
		return jpegSOF{}, false
	}
	n := int(seg[5])
	if n != 1 && n != 3 && n != 4 || len(seg) < 6+3*n {
		return jpegSOF{}, false
	}
	s := jpegSOF{progressive: progressive, components: n, hmax: 1, vmax: 1}
	if n == 1 {
		// A single component is not interleaved: Go ignores its sampling factors.
		s.blocksPerMCU = 1
		return s, true
	}
	for c := 0; c < n; c++ {
		hv := seg[6+3*c+1]
		h, v := int(hv>>4), int(hv&15)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return jpegSOF{}, false
		}
		s.hmax, s.vmax = max(s.hmax, h), max(s.vmax, v)
		s.blocksPerMCU += h * v
	}
	return s, true
}

// pngInfo is what a PNG's header says about its decode.
type pngInfo struct {
	// stored is the bytes per pixel of the image Go's decoder fills, convert the bytes
	// per pixel toNRGBA adds converting it.
	stored, convert int64
	// bitsPerPixel is the size of a pixel in the file's rows (depth × channels).
	bitsPerPixel int64
	interlaced   bool
}

// pngRowBuffers is the memory of the two row buffers (the current and the previous row,
// each a filter byte and the row's pixels) Go's PNG decoder allocates for the image, or
// for each pass of an interlaced one. They grow with the width alone: for an image one
// pixel high they cost more than the image.
func pngRowBuffers(bitsPerPixel int64, w, h int, interlaced bool) int64 {
	rows := func(width int64) int64 { return 2 * (1 + (bitsPerPixel*width+7)/8) }
	if !interlaced {
		return rows(int64(w))
	}
	// Adam7: each pass's first column and row, and its step across and down.
	passes := [7][4]int64{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	var total int64
	for _, p := range passes {
		pw := (int64(w) - p[0] + p[2] - 1) / p[2]
		ph := (int64(h) - p[1] + p[3] - 1) / p[3]
		if pw > 0 && ph > 0 {
			total += rows(pw)
		}
	}
	return total
}

// pngLayout reads a PNG's IHDR (and whether a tRNS chunk comes before the pixel data).
func pngLayout(data []byte) (pngInfo, bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < 33 || string(data[:8]) != sig || string(data[12:16]) != "IHDR" {
		return pngInfo{}, false
	}
	depth, colour := data[24], data[25]
	channels := map[byte]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
	if channels == 0 {
		return pngInfo{}, false
	}
	info := pngInfo{bitsPerPixel: int64(depth) * channels, interlaced: data[28] == 1}
	transparent := false
	for i := 33; i+8 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[i:]))
		typ := data[i+4 : i+8]
		if bytes.Equal(typ, []byte("IDAT")) {
			break
		}
		if bytes.Equal(typ, []byte("tRNS")) {
			transparent = true
			break
		}
		next := int64(i) + 12 + n
		if next > int64(len(data)) {
			break
		}
		i = int(next)
	}
	wide := depth == 16
	switch {
	case colour == 3: // paletted
		info.stored, info.convert = 1, 4
	case wide && colour == 0 && !transparent: // Gray16
		info.stored, info.convert = 2, 4
	case wide: // NRGBA64 or RGBA64
		info.stored, info.convert = 8, 4
	case colour == 0 && !transparent: // Gray
		info.stored, info.convert = 1, 4
	default: // 8-bit NRGBA or opaque RGBA: toNRGBA keeps them
		info.stored, info.convert = 4, 0
	}
	return info, true
}
