package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FS is a Store of files under one directory: each blob at <dir>/<first two hex digits of
// its key>/<key>, written to <dir>/tmp first, synced, and renamed into place, so a reader
// sees a blob whole or not at all, even across a crash.
type FS struct {
	dir string
}

// staleTemp is how old a temporary file must be before NewFS removes it as the leftover
// of a crash; younger ones may belong to another process writing right now.
const staleTemp = time.Hour

// NewFS returns the file-system Store under dir, creating it (mode 0700) if needed, and
// removes temporary files that a crash left behind.
func NewFS(dir string) (*FS, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return &FS{dir: dir}, nil
}

// Check makes sure the directory is still there and writable.
func (s *FS) Check(context.Context) error {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "check-*")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// path returns where the blob with a valid key lives.
func (s *FS) path(key string) string {
	return filepath.Join(s.dir, key[:2], key)
}

// Put implements Store.
func (s *FS) Put(ctx context.Context, r io.Reader, contentType string) (string, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return "", fmt.Errorf("storage: put: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("storage: put: %w", err)
	}
	key := keyFromSum(h.Sum(nil), contentType)
	dst := s.path(key)
	if _, err := os.Stat(dst); err == nil {
		return key, nil // the same bytes are already there
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", fmt.Errorf("storage: put: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("storage: put: %w", err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return "", fmt.Errorf("storage: put: %w", err)
	}
	return key, nil
}

// Get implements Store. The reader is an *os.File.
func (s *FS) Get(_ context.Context, key string) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, Info{}, s.statError(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("storage: get: %w", err)
	}
	return f, fileInfo(key, fi), nil
}

// Stat implements Store.
func (s *FS) Stat(_ context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(s.path(key))
	if err != nil {
		return Info{}, s.statError(err)
	}
	return fileInfo(key, fi), nil
}

// Delete implements Store.
func (s *FS) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete: %w", err)
	}
	return nil
}

// statError maps a missing file to ENOTFOUND and wraps anything else.
func (s *FS) statError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(err)
	}
	return fmt.Errorf("storage: %w", err)
}

func fileInfo(key string, fi fs.FileInfo) Info {
	return Info{Key: key, Size: fi.Size(), ContentType: ContentType(key), ModTime: fi.ModTime()}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// List implements Store: it walks the two-digit directories in order, from after's.
func (s *FS) List(ctx context.Context, after string, limit int) ([]Info, error) {
	if limit <= 0 {
		return nil, nil
	}
	dirs, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("storage: list: %w", err)
	}
	var out []Info
	for _, d := range dirs { // ReadDir sorts by name, which is key order
		name := d.Name()
		if !d.IsDir() || len(name) != 2 || (after != "" && name < after[:min(2, len(after))]) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		files, err := os.ReadDir(filepath.Join(s.dir, name))
		if err != nil {
			return nil, fmt.Errorf("storage: list: %w", err)
		}
		for _, f := range files {
			key := f.Name()
			if key <= after || !ValidKey(key) || key[:2] != name || !f.Type().IsRegular() {
				continue
			}
			fi, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since the directory was read
			} else if err != nil {
				return nil, fmt.Errorf("storage: list: %w", err)
			}
			out = append(out, fileInfo(key, fi))
			if len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}
