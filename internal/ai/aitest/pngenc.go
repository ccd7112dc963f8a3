package aitest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// encodeRows writes an 8-bit PNG of w×h pixels with bpp bytes each (1 grey,
// 3 RGB, 4 RGBA), getting each row from row. Rows equal to the one above
// are written with the Up filter (all zeros) and others unfiltered, which
// keeps encoding the fakes' large, mostly flat images cheap even under the
// race detector. The output is a standard PNG any decoder reads.
func encodeRows(w, h, bpp int, row func(y int, dst []byte)) []byte {
	colourType := map[int]byte{1: 0, 3: 2, 4: 6}[bpp]
	stride := w * bpp
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	prev := make([]byte, stride)
	cur := make([]byte, stride)
	zero := make([]byte, stride+1)
	zero[0] = 2 // filter Up
	for y := range h {
		row(y, cur)
		if y > 0 && bytes.Equal(cur, prev) {
			_, _ = zw.Write(zero)
		} else {
			_, _ = zw.Write([]byte{0})
			_, _ = zw.Write(cur)
		}
		prev, cur = cur, prev
	}
	_ = zw.Close()

	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, colourType
	chunk(&out, "IHDR", ihdr)
	chunk(&out, "IDAT", idat.Bytes())
	chunk(&out, "IEND", nil)
	return out.Bytes()
}

func chunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}
