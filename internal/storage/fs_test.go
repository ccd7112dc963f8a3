package storage

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	t.Parallel()
	testStoreBehaviour(t, func(t *testing.T) Store {
		s, err := NewFS(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFSLeavesNoTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key, err := s.Put(ctx, bytes.NewReader([]byte("one")), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, bytes.NewReader([]byte("one")), "image/png"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, io.MultiReader(strings.NewReader("two"), iotestErrReader{}), "image/png"); err == nil {
		t.Fatal("failing reader stored a blob")
	}
	tmp, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tmp) != 0 {
		t.Errorf("%d temporary files left behind", len(tmp))
	}
	fi, err := os.Stat(filepath.Join(dir, key[:2], key))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("blob mode %v; want 0600", fi.Mode().Perm())
	}
}

// The file store lists blobs only: temporary files and stray names are never offered to
// the garbage collector.
func TestFSListSkipsWhatIsNoBlob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key, err := s.Put(ctx, bytes.NewReader([]byte("blob")), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tmp/put-123", key[:2] + "/notes.txt", key[:2] + "/" + strings.ToUpper(key), "README"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.List(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].Key != key {
		t.Fatalf("List gave %+v; want only %s", page, key)
	}
}
