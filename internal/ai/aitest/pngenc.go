package aitest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// encodeRows writes an 8-bit PNG of w×h pixels with bpp bytes each (1 grey,
// 3 RGB, 4 RGBA), getting each row from row. The fakes' answers are mostly
// flat, so most rows equal the row above. Those are written with the Up
// filter as runs of zeros that a hand-made deflate stream encodes in a few
// bits per 258 bytes; the other rows are stored. The general-purpose
// compressor spends about a second per megapixel under the race detector;
// this takes milliseconds. The output is a standard PNG.
func encodeRows(w, h, bpp int, row func(y int, dst []byte)) []byte {
	stride := w * bpp
	z := newZlibWriter()
	prev := make([]byte, stride)
	cur := make([]byte, stride)
	for y := range h {
		row(y, cur)
		if y > 0 && bytes.Equal(cur, prev) {
			z.zeroRow(stride)
		} else {
			z.storedRow(cur)
		}
		prev, cur = cur, prev
	}
	idat := z.finish()

	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, map[int]byte{1: 0, 3: 2, 4: 6}[bpp]
	chunk(&out, "IHDR", ihdr)
	chunk(&out, "IDAT", idat)
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

// zlibWriter builds a zlib stream (RFC 1950) of deflate blocks (RFC 1951):
// stored blocks for literal rows, fixed-Huffman blocks for zero rows.
type zlibWriter struct {
	buf  []byte
	acc  uint64 // pending bits, least significant first
	n    uint   // number of pending bits
	a, b uint64 // Adler-32 state
}

func newZlibWriter() *zlibWriter {
	return &zlibWriter{buf: []byte{0x78, 0x01}, a: 1}
}

func (z *zlibWriter) bits(v uint64, n uint) {
	z.acc |= v << z.n
	z.n += n
	for z.n >= 8 {
		z.buf = append(z.buf, byte(z.acc))
		z.acc >>= 8
		z.n -= 8
	}
}

// code writes a Huffman code, which deflate packs most significant bit
// first.
func (z *zlibWriter) code(c uint64, n uint) {
	var r uint64
	for i := uint(0); i < n; i++ {
		r = r<<1 | (c>>i)&1
	}
	z.bits(r, n)
}

func (z *zlibWriter) align() {
	if z.n > 0 {
		z.bits(0, 8-z.n)
	}
}

const adlerMod = 65521

// storedRow writes filter byte 0 and the row in stored blocks.
func (z *zlibWriter) storedRow(row []byte) {
	data := append([]byte{0}, row...)
	for len(data) > 0 {
		n := min(len(data), 0xffff)
		z.bits(0, 1) // not final
		z.bits(0, 2) // stored
		z.align()
		z.buf = binary.LittleEndian.AppendUint16(z.buf, uint16(n))
		z.buf = binary.LittleEndian.AppendUint16(z.buf, ^uint16(n))
		z.buf = append(z.buf, data[:n]...)
		data = data[n:]
	}
	for _, c := range append([]byte{0}, row...) {
		z.a = (z.a + uint64(c)) % adlerMod
		z.b = (z.b + z.a) % adlerMod
	}
}

// zeroRow writes filter byte 2 (Up) and stride zeros in one fixed-Huffman
// block: the literals 2 and 0, then copies of length 258 at distance 1.
func (z *zlibWriter) zeroRow(stride int) {
	z.bits(0, 1) // not final
	z.bits(1, 2) // fixed Huffman
	literal := func(c uint64) { z.code(0x30+c, 8) }
	literal(2)
	left := stride
	if left > 0 {
		literal(0)
		left--
	}
	for ; left >= 258; left -= 258 {
		z.code(0xc5, 8) // length 258: symbol 285
		z.code(0, 5)    // distance 1
	}
	for ; left > 0; left-- {
		literal(0)
	}
	z.code(0, 7) // end of block: symbol 256
	z.a = (z.a + 2) % adlerMod
	z.b = (z.b + z.a + uint64(stride)*z.a) % adlerMod
}

// finish writes an empty final block and the Adler-32 checksum.
func (z *zlibWriter) finish() []byte {
	z.bits(1, 1) // final
	z.bits(1, 2) // fixed Huffman
	z.code(0, 7) // end of block
	z.align()
	return binary.BigEndian.AppendUint32(z.buf, uint32(z.b<<16|z.a))
}
