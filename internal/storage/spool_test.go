package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestSpool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, size := range []int{0, 10, 1024, 1025, 5000} {
		data := bytes.Repeat([]byte("x"), size)
		sp, err := spool(ctx, bytes.NewReader(data), 1024)
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(data)
		got, err := io.ReadAll(sp)
		if err != nil || !bytes.Equal(got, data) || !bytes.Equal(sp.sum, want[:]) || sp.size != int64(size) {
			t.Errorf("%d bytes: read back %d, size %d, %v", size, len(got), sp.size, err)
		}
		if (sp.file != nil) != (size > 1024) {
			t.Errorf("%d bytes: temporary file %v; want one only past the memory limit", size, sp.file != nil)
		}
		var name string
		if sp.file != nil {
			name = sp.file.Name()
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		if name != "" {
			if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temporary file %s still there after Close: %v", name, err)
			}
		}
	}
	// A failing body leaves no temporary file behind and reports the failure.
	if _, err := spool(ctx, io.MultiReader(strings.NewReader(strings.Repeat("y", 4096)), iotestErrReader{}), 1024); err == nil {
		t.Fatal("spool of a failing body succeeded")
	}
}
