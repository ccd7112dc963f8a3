// Package imagingtest makes hostile image fixtures for tests: small files whose decode
// costs far more memory than their size suggests. Go's image/jpeg encoder writes baseline
// 4:2:0 YCbCr only, so the progressive, 4:4:4 and CMYK files are written here byte by
// byte.
package imagingtest

import (
	"bytes"
	"encoding/binary"
)

// JPEG describes a JPEG to write: every 8×8 block is flat grey, so the entropy-coded data
// is one bit per block and component (progressive) or two (baseline). A 6400×6250
// progressive 4:4:4 file is about 230 KB.
type JPEG struct {
	Width, Height int
	// Progressive writes a progressive (SOF2) file with one DC scan, instead of a
	// baseline (SOF0) one. Go's decoder keeps every coefficient of a progressive file
	// (4 bytes each) until the last scan.
	Progressive bool
	// CMYK writes four components with an Adobe APP14 marker (transform 0: CMYK);
	// otherwise three YCbCr components.
	CMYK bool
	// Subsampled samples the first component 2×2 (4:2:0, the encoders' usual choice);
	// otherwise every component is sampled 1×1 (4:4:4).
	Subsampled bool
	// NoEnd leaves out the end-of-image marker: the decoder allocates everything, then
	// fails.
	NoEnd bool
}

// Bytes returns the encoded file.
func (j JPEG) Bytes() []byte {
	var b bytes.Buffer
	marker := func(m byte, payload []byte) {
		b.Write([]byte{0xFF, m})
		_ = binary.Write(&b, binary.BigEndian, uint16(len(payload)+2))
		b.Write(payload)
	}
	b.Write([]byte{0xFF, 0xD8}) // SOI
	n := 3
	if j.CMYK {
		n = 4
		// Adobe APP14: version 100, no flags, transform 0 (CMYK, not YCCK).
		marker(0xEE, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0})
	}
	dqt := make([]byte, 65) // table 0, 8-bit, all ones
	for i := 1; i < len(dqt); i++ {
		dqt[i] = 1
	}
	marker(0xDB, dqt)
	sof := []byte{8, byte(j.Height >> 8), byte(j.Height), byte(j.Width >> 8), byte(j.Width), byte(n)}
	hmax, vmax := 1, 1
	blocksPerMCU := 0
	for c := 0; c < n; c++ {
		hv := byte(0x11)
		if c == 0 && j.Subsampled {
			hv, hmax, vmax = 0x22, 2, 2
		}
		blocksPerMCU += int(hv>>4) * int(hv&15)
		sof = append(sof, byte(c+1), hv, 0)
	}
	if j.Progressive {
		marker(0xC2, sof)
	} else {
		marker(0xC0, sof)
	}
	// One DC table and one AC table, each with a single 1-bit code "0": DC category 0
	// (no change) and AC end-of-block.
	dht := []byte{0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	dht = append(dht, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00)
	marker(0xC4, dht)
	sos := []byte{byte(n)}
	for c := 0; c < n; c++ {
		sos = append(sos, byte(c+1), 0x00)
	}
	bitsPerBlock := 2 // DC "no change" and AC end-of-block
	if j.Progressive {
		sos = append(sos, 0, 0, 0) // DC first scan: Ss=0, Se=0, Ah=Al=0
		bitsPerBlock = 1
	} else {
		sos = append(sos, 0, 63, 0)
	}
	marker(0xDA, sos)
	mcus := ((j.Width + 8*hmax - 1) / (8 * hmax)) * ((j.Height + 8*vmax - 1) / (8 * vmax))
	bits := mcus * blocksPerMCU * bitsPerBlock
	b.Write(make([]byte, (bits+7)/8)) // all-zero bits: never 0xFF, so no stuffing
	if !j.NoEnd {
		b.Write([]byte{0xFF, 0xD9}) // EOI
	}
	return b.Bytes()
}
