package storage

import (
	"context"
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
	case "s3":
		return NewS3(S3Options{
			Endpoint:        cfg.S3Endpoint,
			Bucket:          cfg.S3Bucket,
			Prefix:          cfg.S3Prefix,
			Region:          cfg.S3Region,
			AccessKeyID:     cfg.S3AccessKeyID,
			SecretAccessKey: cfg.S3SecretAccessKey,
		})
	default:
		return nil, fmt.Errorf("storage: unknown PACKSHOT_STORAGE %q", cfg.Storage)
	}
}

// Check reports whether s can be used: for S3, that the bucket exists and the
// credentials are accepted; for FS, that the directory is writable. Stores without a
// check pass. Call it at startup, so a misconfiguration is reported as one.
func Check(ctx context.Context, s Store) error {
	if c, ok := s.(interface{ Check(context.Context) error }); ok {
		return c.Check(ctx)
	}
	return nil
}
