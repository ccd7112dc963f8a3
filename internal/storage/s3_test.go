package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
		"S3_PREFIX":            "staging",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s3s, ok := s.(*S3); !ok || s3s.prefix != "staging/" {
		t.Fatalf("Open gave %#v; want *S3 under staging/", s)
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

// newPrefixedS3 returns a store under prefix in the bucket of the fake S3 at endpoint.
func newPrefixedS3(t *testing.T, endpoint, prefix string) *S3 {
	t.Helper()
	s, err := NewS3(S3Options{Endpoint: endpoint, Bucket: testBucket, Prefix: prefix, AccessKeyID: "test-key", SecretAccessKey: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3WithPrefix(t *testing.T) {
	t.Parallel()
	testStoreBehaviour(t, func(t *testing.T) Store { return newPrefixedS3(t, newFakeS3(t), "deployment") })
}

// TestS3DeploymentsSharingABucket: staging and production share a bucket, each under its
// own prefix, and both store the same photo. What one lists and deletes (its garbage
// collector's view) never touches the other's blobs, nor objects outside any prefix.
func TestS3DeploymentsSharingABucket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	endpoint := newFakeS3(t)
	staging := newPrefixedS3(t, endpoint, "staging")
	production := newPrefixedS3(t, endpoint, "/production/")
	photo := []byte("the same photo in both")
	key, err := staging.Put(ctx, bytes.NewReader(photo), "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := production.Put(ctx, bytes.NewReader(photo), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	onlyProduction, err := production.Put(ctx, bytes.NewReader([]byte("production only")), "image/png")
	if err != nil {
		t.Fatal(err)
	}

	raw, err := staging.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range raw.Contents {
		names = append(names, aws.ToString(o.Key))
	}
	want := []string{"production/" + onlyProduction, "production/" + key, "staging/" + key}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("objects in the bucket %q; want %q", names, want)
	}

	listed, err := staging.List(ctx, "", 100)
	if err != nil || len(listed) != 1 || listed[0].Key != key {
		t.Fatalf("staging lists %+v (%v); want only its own photo", listed, err)
	}
	if err := staging.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{key, onlyProduction} {
		if _, err := production.Stat(ctx, k); err != nil {
			t.Errorf("production's blob %s after staging deleted its copy: %v", k, err)
		}
	}
	if _, err := staging.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staging's deleted blob: %v; want not found", err)
	}

	// A store at the bucket's top level sees neither deployment's objects.
	top := newPrefixedS3(t, endpoint, "")
	if listed, err := top.List(ctx, "", 100); err != nil || len(listed) != 0 {
		t.Errorf("a store without a prefix lists %+v (%v); want nothing", listed, err)
	}
}
