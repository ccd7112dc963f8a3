package storage

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/packshot/packshot/internal/apperr"
)

// FileServer answers GET and HEAD for signed links, /files/<key>?exp=…&sig=…, from a
// Store. A content-addressed blob never changes, so responses carry a strong ETag (the
// hash) and may be cached, privately, until the link expires; Range and conditional
// requests are answered through http.ServeContent.
type FileServer struct {
	store  Store
	signer *Signer
	now    func() time.Time
}

// NewFileServer returns a FileServer for blobs in store whose links signer made.
func NewFileServer(store Store, signer *Signer) *FileServer {
	return &FileServer{store: store, signer: signer, now: time.Now}
}

// Serve answers one request whose path ends in /<key>. Before it writes anything it may
// return an *apperr.Error, for the caller to render in its protocol's shape: EFORBIDDEN
// for a bad or expired link (wrapping ErrLinkSignature or ErrLinkExpired), ENOTFOUND for
// a key that is not a blob, EUNSUPPORTED for a method other than GET and HEAD. Once it has
// started the response it returns nil.
func (f *FileServer) Serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return apperr.Errorf(apperr.EUNSUPPORTED, "method %s not allowed on files", r.Method)
	}
	key := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	q := r.URL.Query()
	now := f.now()
	expRaw := q.Get("exp")
	if err := f.signer.Verify(key, expRaw, q.Get("sig"), now); err != nil {
		return err
	}
	if !ValidKey(key) {
		return notFound(nil)
	}
	rc, info, err := f.store.Get(r.Context(), key)
	if err != nil {
		return err
	}
	defer rc.Close()

	exp, _ := strconv.ParseInt(expRaw, 10, 64) // Verify parsed it already
	maxAge := max(exp-now.Unix(), 0)
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("ETag", `"`+key[:sha256.Size*2]+`"`) // the content hash
	h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(maxAge, 10)+", immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	// A blob is data, never a page: should one ever be opened as a document, it may run
	// nothing and reach nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs)
		return nil
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == h.Get("ETag") {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = io.Copy(w, rc) // the client's disconnect is no one's error to report
	return nil
}

// ServeHTTP implements http.Handler, answering errors as problem JSON (RFC 9457) with
// the same type, title, status and detail fields as packshot's REST API.
func (f *FileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	err := f.Serve(w, r)
	if err == nil {
		return
	}
	status, detail := http.StatusInternalServerError, "internal error"
	if ae := apperr.As(err); ae != nil {
		switch ae.Code {
		case apperr.EFORBIDDEN:
			status, detail = http.StatusForbidden, ae.Message
		case apperr.ENOTFOUND:
			status, detail = http.StatusNotFound, ae.Message
		case apperr.EUNSUPPORTED:
			status, detail = http.StatusMethodNotAllowed, ae.Message
			w.Header().Set("Allow", "GET, HEAD")
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "https://packshot.dev/problems/" + apperr.Code(err),
		"title":  http.StatusText(status),
		"status": status,
		"detail": detail,
	})
}
