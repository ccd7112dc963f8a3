package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3Options configure an S3-compatible Store.
type S3Options struct {
	// Endpoint is the service's base URL, e.g. http://minio:9000 (S3_ENDPOINT). Empty
	// means AWS itself. With an endpoint, buckets are addressed by path
	// (<endpoint>/<bucket>/<key>), which every S3-compatible service understands.
	Endpoint string
	// Bucket holds the blobs, one object per key (S3_BUCKET). It must exist. Required.
	Bucket string
	// Prefix is the "folder" of the bucket the blobs live in (S3_PREFIX): with
	// "staging", a key's object is staging/<key>. Empty (the default) means the bucket's
	// top level. The store lists and deletes only objects directly under its prefix, so
	// deployments that share a bucket must each have their own prefix (or their own
	// bucket): with the same prefix, one's garbage collector deletes the other's blobs.
	// Slashes around it are ignored.
	Prefix string
	// Region signs the requests (S3_REGION). Defaults to us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the static credentials (S3_ACCESS_KEY_ID,
	// S3_SECRET_ACCESS_KEY). Required.
	AccessKeyID, SecretAccessKey string
	// HTTPClient sends the requests. Defaults to the SDK's client.
	HTTPClient *http.Client
}

// S3 is a Store in an S3-compatible bucket, for deployments with more than one machine.
// An object is written by one PUT of its whole body, which S3 makes visible whole or not
// at all; Put first spools the body (in memory up to 8 MiB, then in a temporary
// file) because the key, its hash, must be known before the upload starts.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	// spoolMemory is how much of a Put's body is kept in memory; tests lower it.
	spoolMemory int64
}

// NewS3 returns the Store in opts.Bucket. It makes no request: a wrong endpoint or
// bucket shows on first use.
func NewS3(opts S3Options) (*S3, error) {
	switch {
	case opts.Bucket == "":
		return nil, errors.New("storage: S3_BUCKET is required")
	case opts.AccessKeyID == "" || opts.SecretAccessKey == "":
		return nil, errors.New("storage: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	creds := aws.Credentials{AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey, Source: "packshot config"}
	o := s3.Options{
		Region: opts.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		// Checksums only where S3 demands them: many S3-compatible services reject
		// the SDK's newer default trailing checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if opts.Endpoint != "" {
		o.BaseEndpoint = aws.String(opts.Endpoint)
		o.UsePathStyle = true
	}
	if opts.HTTPClient != nil {
		o.HTTPClient = opts.HTTPClient
	}
	prefix := strings.Trim(opts.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: s3.New(o), bucket: opts.Bucket, prefix: prefix, spoolMemory: defaultSpoolMemory}, nil
}

// object is the name of key's object in the bucket.
func (s *S3) object(key string) *string {
	return aws.String(s.prefix + key)
}

// Check asks S3 whether the bucket exists and the credentials may use it, so that a
// misconfiguration shows at startup rather than as a missing file (a HEAD of a key in a
// missing bucket is a bare 404, like a missing key).
func (s *S3) Check(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("storage: s3 bucket %s: %w", s.bucket, err)
	}
	return nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, r io.Reader, contentType string) (string, error) {
	sp, err := spool(ctx, r, s.spoolMemory)
	if err != nil {
		return "", fmt.Errorf("storage: put: %w", err)
	}
	defer sp.Close()
	key := keyFromSum(sp.sum, contentType)
	if _, err := s.Stat(ctx, key); err == nil {
		return key, nil // the same bytes are already there
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           s.object(key),
		Body:          sp,
		ContentLength: aws.Int64(sp.size),
		ContentType:   aws.String(ContentType(key)),
	})
	if err != nil {
		return "", s.error("put", key, err)
	}
	return key, nil
}

// Get implements Store. The reader is also an io.Seeker: seeking is free, and the next
// read after a seek asks for the rest of the object from there (a ranged GET).
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: s.object(key)})
	if err != nil {
		return nil, Info{}, s.error("get", key, err)
	}
	info := Info{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: ContentType(key), ModTime: aws.ToTime(out.LastModified)}
	return &s3Object{ctx: ctx, s: s, key: key, size: info.Size, body: out.Body}, info, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: s.object(key)})
	if err != nil {
		return Info{}, s.error("stat", key, err)
	}
	return Info{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: ContentType(key), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: s.object(key)})
	if err != nil {
		if err = s.error("delete", key, err); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return nil
}

// List implements Store with ListObjectsV2 under the prefix from StartAfter, a page at a
// time. Objects outside the prefix are never listed; objects in deeper "folders" under
// it are not keys and are skipped.
func (s *S3) List(ctx context.Context, after string, limit int) ([]Info, error) {
	var out []Info
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)}
	if s.prefix != "" {
		in.Prefix = aws.String(s.prefix)
	}
	if after != "" {
		in.StartAfter = s.object(after)
	}
	for len(out) < limit {
		in.MaxKeys = aws.Int32(int32(min(limit-len(out), 1000)))
		page, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("storage: s3 list in bucket %s: %w", s.bucket, err)
		}
		for _, o := range page.Contents {
			name := aws.ToString(o.Key)
			if key, ok := strings.CutPrefix(name, s.prefix); ok && ValidKey(key) && len(out) < limit {
				out = append(out, Info{Key: key, Size: aws.ToInt64(o.Size), ContentType: ContentType(key), ModTime: aws.ToTime(o.LastModified)})
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			break
		}
		in.ContinuationToken = page.NextContinuationToken
	}
	return out, nil
}

// error maps S3's "no such key" (an error code on GET, a bare 404 on HEAD) to ENOTFOUND
// and wraps anything else with the operation and key.
func (s *S3) error(op, key string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return notFound(fmt.Errorf("%w: %w", fs.ErrNotExist, err))
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound && !isNoSuchBucket(err) {
		return notFound(fmt.Errorf("%w: %w", fs.ErrNotExist, err))
	}
	return fmt.Errorf("storage: s3 %s %s in bucket %s: %w", op, key, s.bucket, err)
}

// isNoSuchBucket reports a missing bucket, which is a configuration error and must not
// read as a missing blob.
func isNoSuchBucket(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket"
}

// s3Object reads an object and seeks within it. The body of the last GET is kept for as
// long as reads continue where it is; a read after a seek elsewhere replaces it with a
// ranged GET from the new offset. http.ServeContent's probe (seek to the end, then back
// to the start) therefore costs nothing.
type s3Object struct {
	ctx     context.Context
	s       *S3
	key     string
	size    int64
	pos     int64         // where the next Read reads
	body    io.ReadCloser // nil, or a body positioned at bodyPos
	bodyPos int64
}

func (o *s3Object) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if o.body == nil || o.bodyPos != o.pos {
		if o.body != nil {
			o.body.Close()
			o.body = nil
		}
		out, err := o.s.client.GetObject(o.ctx, &s3.GetObjectInput{
			Bucket: aws.String(o.s.bucket),
			Key:    o.s.object(o.key),
			Range:  aws.String("bytes=" + strconv.FormatInt(o.pos, 10) + "-"),
		})
		if err != nil {
			return 0, o.s.error("get", o.key, err)
		}
		o.body, o.bodyPos = out.Body, o.pos
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.bodyPos += int64(n)
	if errors.Is(err, io.EOF) && o.pos < o.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("storage: seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("storage: seek: negative position")
	}
	o.pos = offset
	return offset, nil
}

func (o *s3Object) Close() error {
	if o.body == nil {
		return nil
	}
	err := o.body.Close()
	o.body = nil
	return err
}
