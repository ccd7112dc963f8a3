package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
)

// defaultSpoolMemory is how much of a body spool keeps in memory before it moves to a
// temporary file. Photos and generated images mostly fit; packs mostly do not.
const defaultSpoolMemory = 8 << 20

// spooled is a body read to its end, with its SHA-256 and size, to be read again from
// the start (and seeked, for request signing and retries).
type spooled struct {
	io.ReadSeeker
	sum  []byte
	size int64
	file *os.File // the temporary file, when the body outgrew memory
}

// spool reads r to its end, hashing it, into memory or, past memory bytes, a temporary
// file that Close removes.
func spool(ctx context.Context, r io.Reader, memory int64) (*spooled, error) {
	h := sha256.New()
	var buf bytes.Buffer
	n, err := io.Copy(io.MultiWriter(&buf, h), io.LimitReader(ctxReader{ctx, r}, memory+1))
	if err != nil {
		return nil, err
	}
	if n <= memory {
		return &spooled{ReadSeeker: bytes.NewReader(buf.Bytes()), sum: h.Sum(nil), size: n}, nil
	}
	f, err := os.CreateTemp("", "packshot-spool-*")
	if err != nil {
		return nil, err
	}
	sp := &spooled{file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		sp.Close()
		return nil, err
	}
	rest, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sp.Close()
		return nil, err
	}
	sp.ReadSeeker, sp.sum, sp.size = f, h.Sum(nil), n+rest
	return sp, nil
}

// Close removes the temporary file, if there is one.
func (s *spooled) Close() error {
	if s.file == nil {
		return nil
	}
	return errors.Join(s.file.Close(), os.Remove(s.file.Name()))
}
