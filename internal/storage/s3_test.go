package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/packshot/packshot/internal/config"
)

const testBucket = "packshot-blobs"

// newFakeS3 starts an in-process S3-protocol server with testBucket in it and returns
// its URL.
func newFakeS3(t *testing.T) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

func newS3ForTest(t *testing.T) Store {
	t.Helper()
	s, err := NewS3(S3Options{
		Endpoint:        newFakeS3(t),
		Bucket:          testBucket,
		AccessKeyID:     "test-key",
		SecretAccessKey: "test-secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	s.spoolMemory = 64 << 10 // so that the large blobs take the temporary-file path
	return s
}

func TestS3(t *testing.T) {
	t.Parallel()
	testStoreBehaviour(t, newS3ForTest)
}

func TestS3FileServer(t *testing.T) {
	t.Parallel()
	testFileServer(t, newS3ForTest)
}

func TestOpenS3(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PACKSHOT_DATA_DIR":    t.TempDir(),
		"PACKSHOT_STORAGE":     "s3",
		"S3_ENDPOINT":          newFakeS3(t),
		"S3_BUCKET":            testBucket,
		"S3_ACCESS_KEY_ID":     "test-key",
		"S3_SECRET_ACCESS_KEY": "test-secret",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*S3); !ok {
		t.Fatalf("Open gave a %T; want *S3", s)
	}
	ctx := context.Background()
	key, err := s.Put(ctx, bytes.NewReader([]byte("blob")), "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := Check(ctx, s); err != nil {
		t.Fatalf("Check of a good bucket: %v", err)
	}
}

func TestS3Misconfigured(t *testing.T) {
	t.Parallel()
	if _, err := NewS3(S3Options{Bucket: testBucket}); err == nil {
		t.Error("NewS3 without credentials succeeded")
	}
	if _, err := NewS3(S3Options{AccessKeyID: "a", SecretAccessKey: "b"}); err == nil {
		t.Error("NewS3 without a bucket succeeded")
	}

	// A bucket that does not exist is a configuration error, never "file not found".
	s, err := NewS3(S3Options{Endpoint: newFakeS3(t), Bucket: "no-such-bucket", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := Check(ctx, s); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("Check of a missing bucket: %v; want an error naming the bucket", err)
	}
	if _, err := s.Put(ctx, bytes.NewReader([]byte("x")), "image/png"); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("put in a missing bucket: %v; want an error naming the bucket", err)
	}
}
