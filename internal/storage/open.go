package storage

import (
	"fmt"
	"path/filepath"

	"github.com/packshot/packshot/internal/config"
)

// Open returns the Store cfg chooses: FS under cfg.DataDir/blobs (PACKSHOT_STORAGE=fs,
// the default) or the S3-compatible bucket cfg.S3Bucket (PACKSHOT_STORAGE=s3).
func Open(cfg config.Config) (Store, error) {
	switch cfg.Storage {
	case "", "fs":
		return NewFS(filepath.Join(cfg.DataDir, "blobs"))
	default:
		return nil, fmt.Errorf("storage: unknown PACKSHOT_STORAGE %q", cfg.Storage)
	}
}
