package storage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/packshot/packshot/internal/apperr"
)

// Errors a signed link can fail with, wrapped in an EFORBIDDEN *apperr.Error; test with
// errors.Is.
var (
	// ErrLinkSignature is a link whose signature does not match its key and expiry: it
	// was altered, made with another secret, or is missing its exp or sig.
	ErrLinkSignature = errors.New("file link signature invalid")
	// ErrLinkExpired is a genuine link past its expiry.
	ErrLinkExpired = errors.New("file link expired")
)

// signerContext separates the file-link key from other uses of the same secret.
const signerContext = "packshot/files/v1"

// Signer makes and checks signed file links: an HMAC-SHA256 over the key and the expiry.
// It is safe for concurrent use.
type Signer struct {
	mac []byte
}

// NewSigner returns a Signer whose links are valid on every instance given the same
// secret; the JWT secret is a good choice, since every instance already shares it. The
// link key is derived from it, so a link's MAC can never double as a token signature.
func NewSigner(secret string) (*Signer, error) {
	if secret == "" {
		return nil, errors.New("storage: empty signing secret")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signerContext))
	return &Signer{mac: m.Sum(nil)}, nil
}

// Sign returns the signature of key valid until exp, base64url without padding. key may
// be any text (a blob key, or a name such as "pack/<id>" for other signed routes).
func (s *Signer) Sign(key string, exp time.Time) string {
	return base64.RawURLEncoding.EncodeToString(s.sum(key, exp.Unix()))
}

// URL returns the path of the signed link to the blob under key:
// /files/<key>?exp=<unix seconds>&sig=<signature>.
func (s *Signer) URL(key string, exp time.Time) string {
	return "/files/" + url.PathEscape(key) + "?" + s.Query(key, exp)
}

// Query returns the query string "exp=<unix seconds>&sig=<signature>" that signs key until
// exp, for signed routes other than /files.
func (s *Signer) Query(key string, exp time.Time) string {
	return "exp=" + strconv.FormatInt(exp.Unix(), 10) + "&sig=" + s.Sign(key, exp)
}

// Verify checks a link's exp and sig query values for key at now. A wrong, missing or
// malformed signature is ErrLinkSignature; a genuine link past exp is ErrLinkExpired;
// both come wrapped in an EFORBIDDEN *apperr.Error. The signature is checked first, in
// constant time, so only genuine links are ever told they have expired.
func (s *Signer) Verify(key, exp, sig string, now time.Time) error {
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(unix, 10) != exp { // one spelling per expiry
		return linkError(ErrLinkSignature)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.sum(key, unix)) {
		return linkError(ErrLinkSignature)
	}
	if now.Unix() > unix {
		return linkError(ErrLinkExpired)
	}
	return nil
}

// sum is the MAC of key and exp. exp is last and digits only, so no two (key, exp) pairs
// share a message.
func (s *Signer) sum(key string, exp int64) []byte {
	m := hmac.New(sha256.New, s.mac)
	m.Write([]byte(key))
	m.Write([]byte{'\n'})
	m.Write(strconv.AppendInt(nil, exp, 10))
	return m.Sum(nil)
}

func linkError(err error) error {
	return &apperr.Error{Code: apperr.EFORBIDDEN, Message: err.Error(), Err: err}
}
