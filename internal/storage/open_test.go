package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/packshot/packshot/internal/config"
)

func TestOpenFS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"PACKSHOT_DATA_DIR": dir}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Put(context.Background(), bytes.NewReader([]byte("blob")), "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", key[:2], key)); err != nil {
		t.Fatalf("blob not under the data dir: %v", err)
	}
	if err := Check(context.Background(), s); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	if err := Check(context.Background(), s); err == nil {
		t.Fatal("Check passed with the blob directory gone")
	}
}
