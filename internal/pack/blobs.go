package pack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/storage"
)

// StorageBlobs adapts a storage.Store and its link signer to Blobs: URL returns signed
// /files links valid for ttl (default 1 h). Expiries are rounded up to the next whole
// minute, so snapshots built within one minute carry identical links.
func StorageBlobs(store storage.Store, signer *storage.Signer, ttl time.Duration) Blobs {
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &storageBlobs{store: store, signer: signer, ttl: ttl}
}

type storageBlobs struct {
	store  storage.Store
	signer *storage.Signer
	ttl    time.Duration
}

// Put stores data under its content-addressed key.
func (b *storageBlobs) Put(ctx context.Context, data []byte, contentType string) (string, error) {
	return b.store.Put(ctx, bytes.NewReader(data), contentType)
}

// Get reads the whole blob under key.
func (b *storageBlobs) Get(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := b.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", key, err)
	}
	return data, nil
}

// URL returns the signed /files link of key.
func (b *storageBlobs) URL(key string) string {
	return b.signer.URL(key, linkExpiry(time.Now(), b.ttl))
}

// linkExpiry is now+ttl rounded up to the next whole minute.
func linkExpiry(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl).Truncate(time.Minute).Add(time.Minute)
}

// ClaimingBlobs returns blobs whose Put first claims the key in the database, so that the
// blob garbage collector (BlobCollector) cannot delete it between its storage and the row
// that will reference it. Every Blobs a Service writes through must be wrapped in it when
// a collector runs against the same store. The database dates the claims, so the
// collector and every writer share one clock.
func ClaimingBlobs(blobs Blobs, store db.Store) Blobs {
	return &claimingBlobs{Blobs: blobs, store: store}
}

type claimingBlobs struct {
	Blobs
	store db.Store
}

// Put claims data's key, then stores it. The claim commits before the blob is stored:
// that order is what the collector's argument rests on.
func (b *claimingBlobs) Put(ctx context.Context, data []byte, contentType string) (string, error) {
	key := storage.KeyFor(data, contentType)
	if err := claimBlob(ctx, b.store, key); err != nil {
		return "", err
	}
	got, err := b.Blobs.Put(ctx, data, contentType)
	if err == nil && got != key {
		return "", fmt.Errorf("store blob: stored as %s, claimed as %s", got, key)
	}
	return got, err
}
