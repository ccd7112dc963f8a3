package trpc

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// spooledBody is a request body read to its end: in memory while it is small, else in a
// temporary file that Close removes.
type spooledBody struct {
	mem  []byte
	file *os.File
	size int64
}

// spoolBody reads r to its end, keeping at most memory bytes in memory and writing the
// rest to a temporary file in dir ("" for the system's).
func spoolBody(r io.Reader, memory int64, dir string) (*spooledBody, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, memory+1))
	if err != nil {
		return nil, err
	}
	if n <= memory {
		return &spooledBody{mem: buf.Bytes(), size: n}, nil
	}
	f, err := os.CreateTemp(dir, "packshot-upload-*")
	if err != nil {
		return nil, err
	}
	sp := &spooledBody{file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		_ = sp.Close()
		return nil, err
	}
	rest, err := io.Copy(f, r)
	if err != nil {
		_ = sp.Close()
		return nil, err
	}
	sp.size = n + rest
	return sp, nil
}

// bytes returns the whole body.
func (s *spooledBody) bytes() ([]byte, error) {
	if s.file == nil {
		return s.mem, nil
	}
	b := make([]byte, s.size)
	if _, err := s.file.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// Close removes the temporary file, if there is one.
func (s *spooledBody) Close() error {
	if s.file == nil {
		return nil
	}
	err := errors.Join(s.file.Close(), os.Remove(s.file.Name()))
	s.file = nil
	return err
}
