package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"strings"
	"time"

	"github.com/packshot/packshot/internal/apperr"
)

// Store holds blobs under content-addressed keys. Implementations are safe for concurrent
// use. Errors about a key are *apperr.Error: EINVALID for a key not of the form KeyFor
// makes, ENOTFOUND (wrapping fs.ErrNotExist) for a blob that is not there.
type Store interface {
	// Put stores everything r yields and returns its key, the SHA-256 of the bytes plus
	// the extension for contentType (see KeyFor). Storing bytes that are already there
	// returns the same key and changes nothing. A blob becomes visible whole or not at
	// all.
	Put(ctx context.Context, r io.Reader, contentType string) (string, error)
	// Get opens the blob under key. The caller must close the reader. The reader is
	// also an io.Seeker in both packshot stores, which lets FileServer answer Range
	// requests.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the blob under key without reading it.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the blob under key. Deleting a blob that is not there is not an
	// error.
	Delete(ctx context.Context, key string) error
	// List returns up to limit blobs whose keys sort after after ("" for the first), in
	// key order, each with its size and modification time; fewer than limit means the
	// end was reached. Names that are not keys (a shared bucket's other objects, the file
	// store's temporary files) are skipped, so nothing List returns is someone else's.
	// The garbage collector walks the store with it, one bounded page per run.
	List(ctx context.Context, after string, limit int) ([]Info, error)
}

// Info describes a stored blob.
type Info struct {
	// Key is the blob's key.
	Key string
	// Size is the blob's length in bytes.
	Size int64
	// ContentType is the media type its key's extension stands for.
	ContentType string
	// ModTime is when the blob was first stored, as the backend reports it.
	ModTime time.Time
}

// extensions maps the media types packshot stores to the extension of their keys. Any
// other type is stored as "bin" and served as application/octet-stream, so that a blob
// can never be served as something a browser would run.
var extensions = map[string]string{
	"image/jpeg":       "jpg",
	"image/png":        "png",
	"image/webp":       "webp",
	"image/gif":        "gif",
	"application/zip":  "zip",
	"application/json": "json",
}

// contentTypes is extensions inverted, plus bin.
var contentTypes = func() map[string]string {
	m := map[string]string{"bin": "application/octet-stream"}
	for ct, ext := range extensions {
		m[ext] = ct
	}
	return m
}()

// Extension returns the key extension for a media type ("image/jpeg" → "jpg");
// parameters and case are ignored, and unknown types give "bin".
func Extension(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "bin"
	}
	if ext, ok := extensions[mt]; ok {
		return ext
	}
	return "bin"
}

// KeyFor returns the key of data stored as contentType: hex SHA-256, a dot, and the
// extension.
func KeyFor(data []byte, contentType string) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) + "." + Extension(contentType)
}

// keyFromSum is KeyFor for a digest already computed.
func keyFromSum(sum []byte, contentType string) string {
	return hex.EncodeToString(sum) + "." + Extension(contentType)
}

// ValidKey reports whether key has exactly the form KeyFor makes: 64 lower-case hex
// digits, a dot, and a known extension. Nothing else (no slash, no dot-dot, no upper
// case) passes.
func ValidKey(key string) bool {
	hash, ext, ok := strings.Cut(key, ".")
	if !ok || len(hash) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(hash); i++ {
		c := hash[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, known := contentTypes[ext]
	return known
}

// ContentType returns the media type a valid key's extension stands for, and
// application/octet-stream for anything else.
func ContentType(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		if ct, ok := contentTypes[key[i+1:]]; ok {
			return ct
		}
	}
	return "application/octet-stream"
}

// checkKey returns the EINVALID error for a key ValidKey refuses.
func checkKey(key string) error {
	if ValidKey(key) {
		return nil
	}
	return &apperr.Error{Code: apperr.EINVALID, Message: "invalid file key"}
}

// notFound is the error for a blob that is not there; errors.Is(err, fs.ErrNotExist)
// holds for it whichever store returned it.
func notFound(cause error) error {
	if cause == nil {
		cause = fs.ErrNotExist
	}
	return &apperr.Error{Code: apperr.ENOTFOUND, Message: "file not found", Err: cause}
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
