package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/packshot/packshot/internal/apperr"
)

// testStoreBehaviour runs the behaviour every Store must have against the stores that
// newStore makes (each call a fresh, empty store).
func testStoreBehaviour(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("pretend this is a photo")...)

	t.Run("put then get", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key, err := s.Put(ctx, bytes.NewReader(jpeg), "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		if key != KeyFor(jpeg, "image/jpeg") || !strings.HasSuffix(key, ".jpg") {
			t.Fatalf("key %q; want %q", key, KeyFor(jpeg, "image/jpeg"))
		}
		rc, info, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, jpeg) {
			t.Fatalf("got %q; want %q", got, jpeg)
		}
		if info.Key != key || info.Size != int64(len(jpeg)) || info.ContentType != "image/jpeg" || info.ModTime.IsZero() {
			t.Errorf("Get info %+v", info)
		}
		st, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != info.Size || st.ContentType != info.ContentType || st.Key != key {
			t.Errorf("Stat %+v; Get said %+v", st, info)
		}
	})

	t.Run("same bytes same key", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var keys [4]string
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := s.Put(ctx, bytes.NewReader(jpeg), "image/jpeg; charset=binary")
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for _, k := range keys {
			if k != keys[0] {
				t.Fatalf("keys differ: %q", keys)
			}
		}
		// The same bytes as another type are another blob.
		png, err := s.Put(ctx, bytes.NewReader(jpeg), "image/png")
		if err != nil {
			t.Fatal(err)
		}
		if png == keys[0] || !strings.HasSuffix(png, ".png") {
			t.Errorf("png key %q", png)
		}
	})

	t.Run("large and empty blobs", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		big := make([]byte, 1<<20+123)
		if _, err := rand.Read(big); err != nil {
			t.Fatal(err)
		}
		for _, data := range [][]byte{big, {}} {
			key, err := s.Put(ctx, struct{ io.Reader }{bytes.NewReader(data)}, "application/zip")
			if err != nil {
				t.Fatal(err)
			}
			rc, info, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) || info.Size != int64(len(data)) {
				t.Fatalf("%d bytes stored, %d read back (size %d, %v)", len(data), len(got), info.Size, err)
			}
		}
	})

	t.Run("get is seekable", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key, err := s.Put(ctx, strings.NewReader("0123456789"), "application/json")
		if err != nil {
			t.Fatal(err)
		}
		rc, _, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		rs, ok := rc.(io.ReadSeeker)
		if !ok {
			t.Fatalf("Get returned a %T, not an io.ReadSeeker", rc)
		}
		head := make([]byte, 2)
		if _, err := io.ReadFull(rs, head); err != nil || string(head) != "01" {
			t.Fatalf("first read %q, %v", head, err)
		}
		if n, err := rs.Seek(-3, io.SeekEnd); err != nil || n != 7 {
			t.Fatalf("seek from end: %d, %v", n, err)
		}
		tail, err := io.ReadAll(rs)
		if err != nil || string(tail) != "789" {
			t.Fatalf("after seek read %q, %v", tail, err)
		}
		if _, err := rs.Seek(4, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rs, head); err != nil || string(head) != "45" {
			t.Fatalf("after second seek read %q, %v", head, err)
		}
	})

	t.Run("missing blob", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key := KeyFor([]byte("never stored"), "image/png")
		_, _, err := s.Get(ctx, key)
		assertCode(t, err, apperr.ENOTFOUND)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get error %v is not fs.ErrNotExist", err)
		}
		_, err = s.Stat(ctx, key)
		assertCode(t, err, apperr.ENOTFOUND)
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("deleting a missing blob: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key, err := s.Put(ctx, bytes.NewReader(jpeg), "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		_, err = s.Stat(ctx, key)
		assertCode(t, err, apperr.ENOTFOUND)
		if again, err := s.Put(ctx, bytes.NewReader(jpeg), "image/jpeg"); err != nil || again != key {
			t.Fatalf("put after delete: %q, %v", again, err)
		}
		if _, err := s.Stat(ctx, key); err != nil {
			t.Fatalf("stat after put again: %v", err)
		}
	})

	t.Run("list pages in key order", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := map[string]int64{}
		for i := range 7 {
			data := bytes.Repeat([]byte{byte('a' + i)}, i+1)
			key, err := s.Put(ctx, bytes.NewReader(data), "image/png")
			if err != nil {
				t.Fatal(err)
			}
			want[key] = int64(len(data))
		}
		if page, err := s.List(ctx, "", 0); err != nil || len(page) != 0 {
			t.Fatalf("List with limit 0: %d blobs, %v", len(page), err)
		}
		var got []Info
		after := ""
		for {
			page, err := s.List(ctx, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].Key
		}
		if len(got) != len(want) {
			t.Fatalf("listed %d blobs; want %d", len(got), len(want))
		}
		for i, info := range got {
			if i > 0 && info.Key <= got[i-1].Key {
				t.Errorf("key %d %q not after %q", i, info.Key, got[i-1].Key)
			}
			if size, ok := want[info.Key]; !ok || info.Size != size || info.ModTime.IsZero() || info.ContentType != "image/png" {
				t.Errorf("listed %+v; want size %d (known: %v)", info, size, ok)
			}
		}
		if err := s.Delete(ctx, got[0].Key); err != nil {
			t.Fatal(err)
		}
		if page, err := s.List(ctx, "", 100); err != nil || len(page) != len(want)-1 || page[0].Key != got[1].Key {
			t.Fatalf("after a delete, List gave %d blobs (%v); want %d starting %s", len(page), err, len(want)-1, got[1].Key)
		}
	})

	t.Run("invalid keys", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		stored, err := s.Put(ctx, bytes.NewReader(jpeg), "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range invalidKeys(stored) {
			_, _, err := s.Get(ctx, key)
			assertCode(t, err, apperr.EINVALID)
			_, err = s.Stat(ctx, key)
			assertCode(t, err, apperr.EINVALID)
			assertCode(t, s.Delete(ctx, key), apperr.EINVALID)
		}
		if _, err := s.Stat(ctx, stored); err != nil {
			t.Fatalf("the stored blob is gone after the invalid deletes: %v", err)
		}
	})

	t.Run("cancelled put stores nothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if key, err := s.Put(cctx, bytes.NewReader(jpeg), "image/jpeg"); err == nil {
			t.Fatalf("put with a cancelled context stored %q", key)
		}
		_, err := s.Stat(ctx, KeyFor(jpeg, "image/jpeg"))
		assertCode(t, err, apperr.ENOTFOUND)
	})

	t.Run("failing reader stores nothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		r := io.MultiReader(bytes.NewReader(jpeg), iotestErrReader{})
		if key, err := s.Put(ctx, r, "image/jpeg"); err == nil {
			t.Fatalf("put from a failing reader stored %q", key)
		}
		_, err := s.Stat(ctx, KeyFor(jpeg, "image/jpeg"))
		assertCode(t, err, apperr.ENOTFOUND)
	})
}

// invalidKeys are keys no store may accept: traversal, wrong case, wrong length, unknown
// extensions, and near misses of a real key.
func invalidKeys(real string) []string {
	return []string{
		"",
		"../" + real,
		real[:2] + "/" + real,
		"..",
		"../../etc/passwd",
		real + "/",
		"/" + real,
		strings.ToUpper(real[:64]) + ".jpg",
		real[:63] + ".jpg",
		real[:64] + "0.jpg",
		real[:64],
		real[:64] + ".",
		real[:64] + ".exe",
		real[:64] + ".jpg.png",
		real[:64] + ".JPG",
		real[:64] + ".jpg\x00",
		real[:63] + "g.jpg",
		"tmp",
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apperr.Code(err); err == nil || got != code {
		t.Errorf("error %v (code %s); want code %s", err, got, code)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	k := KeyFor([]byte("abc"), "image/webp")
	if k != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.webp" {
		t.Errorf("KeyFor = %q", k)
	}
	if !ValidKey(k) || ContentType(k) != "image/webp" {
		t.Errorf("ValidKey/ContentType of %q", k)
	}
	for ct, ext := range map[string]string{
		"image/jpeg": "jpg", "IMAGE/PNG": "png", "application/json; charset=utf-8": "json",
		"application/zip": "zip", "text/html": "bin", "image/svg+xml": "bin", "": "bin", ";;": "bin",
	} {
		if got := Extension(ct); got != ext {
			t.Errorf("Extension(%q) = %q; want %q", ct, got, ext)
		}
	}
	if ct := ContentType(KeyFor(nil, "text/html")); ct != "application/octet-stream" {
		t.Errorf("an HTML upload would be served as %q", ct)
	}
	for _, bad := range invalidKeys(k) {
		if ValidKey(bad) {
			t.Errorf("ValidKey(%q) = true", bad)
		}
	}
}
