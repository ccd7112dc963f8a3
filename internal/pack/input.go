package pack

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/imaging"
)

// Input limits.
const (
	MaxNameLen       = 200  // characters in a project name
	MaxTitleLen      = 200  // characters in a product title
	MaxFeatures      = 5    // features per project
	MaxFeatureLen    = 120  // characters in one feature
	MaxDimensionsLen = 100  // characters in a dimensions string
	MaxPromptLen     = 1000 // characters in a custom prompt
	MaxKeyLen        = 255  // characters in an idempotency key
	DefaultPageSize  = 20   // projects per page of project.list
	MaxPageSize      = 100  // the largest page project.list returns
)

// Caller is who makes a request: a user, or the operator (service role) who sees every
// user's objects.
type Caller struct {
	UserID string
	Admin  bool
}

// CreateInput is the input of project.create and POST /api/projects.
type CreateInput struct {
	Name        string   `json:"name"`
	Marketplace *string  `json:"marketplace,omitempty"`
	Title       *string  `json:"title,omitempty"`
	Features    []string `json:"features,omitempty"`
	Dimensions  *string  `json:"dimensions,omitempty"`
}

// UpdateInput is the input of project.update; absent fields stay as they are.
type UpdateInput struct {
	ID         string   `json:"id"`
	Name       *string  `json:"name,omitempty"`
	Title      *string  `json:"title,omitempty"`
	Features   []string `json:"features,omitempty"`
	Dimensions *string  `json:"dimensions,omitempty"`
}

// details are a project's validated product data.
type details struct {
	name, title, dimensions string
	features                []string
	dims                    imaging.Dimensions
}

// fieldErrors collects what is wrong with each input field.
type fieldErrors map[string]string

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	keys := make([]string, 0, len(f))
	for _, k := range []string{"id", "projectId", "name", "marketplace", "title", "features", "dimensions", "type", "prompt", "idempotencyKey", "cursor", "limit"} {
		if _, ok := f[k]; ok {
			keys = append(keys, k)
		}
	}
	for k := range f {
		if strings.HasPrefix(k, "features.") {
			keys = append(keys, k)
		}
	}
	msgs := make([]string, 0, len(keys))
	for _, k := range keys {
		msgs = append(msgs, k+": "+f[k])
	}
	return apperr.Invalid("Invalid input: "+strings.Join(msgs, "; "), map[string]string(f))
}

// text trims s and checks it is at most max characters; required refuses "".
func (f fieldErrors) text(field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		f[field] = "must be valid UTF-8 text"
	case required && s == "":
		f[field] = "is required"
	case utf8.RuneCountInString(s) > max:
		f[field] = fmt.Sprintf("must be at most %d characters", max)
	}
	return s
}

func (f fieldErrors) features(in []string) []string {
	if len(in) > MaxFeatures {
		f["features"] = fmt.Sprintf("at most %d features (got %d)", MaxFeatures, len(in))
		return nil
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		s = f.text(fmt.Sprintf("features.%d", i), s, MaxFeatureLen, false)
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (f fieldErrors) dimensions(s string) (string, imaging.Dimensions) {
	s = f.text("dimensions", s, MaxDimensionsLen, false)
	if s == "" || f["dimensions"] != "" {
		return s, imaging.Dimensions{}
	}
	d, err := imaging.ParseDimensions(s)
	if err != nil {
		f["dimensions"] = err.Error()
		return s, imaging.Dimensions{}
	}
	return s, d
}

// validateCreate checks a new project's input.
func validateCreate(in CreateInput) (details, string, error) {
	f := fieldErrors{}
	var d details
	d.name = f.text("name", in.Name, MaxNameLen, true)
	mp := ""
	if in.Marketplace != nil {
		mp = *in.Marketplace
	}
	marketplace, err := ParseMarketplace(mp)
	if err != nil {
		f["marketplace"] = err.Error()
	}
	if in.Title != nil {
		d.title = f.text("title", *in.Title, MaxTitleLen, false)
	}
	d.features = f.features(in.Features)
	if in.Dimensions != nil {
		d.dimensions, d.dims = f.dimensions(*in.Dimensions)
	}
	return d, marketplace, f.err()
}

// parseID reads a UUID from user input; a malformed one is EINVALID naming the field.
func parseID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil || strings.TrimSpace(s) == "" {
		return uuid.Nil, fieldErrors{field: "must be a UUID"}.err()
	}
	return id, nil
}

// ParseID reads an id from user input: a malformed one is an EINVALID *apperr.Error.
func ParseID(s string) (uuid.UUID, error) { return parseID("id", s) }

// cursor is a position in a project list: the last row's (created_at, id).
type cursor struct {
	createdAt time.Time
	id        uuid.UUID
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.createdAt.UTC().Format(time.RFC3339Nano) + "|" + c.id.String()))
}

var errBadCursor = errors.New("bad cursor")

func decodeCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{createdAt: time.Unix(0, 0)}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	ts, idStr, ok := strings.Cut(string(b), "|")
	if !ok {
		return cursor{}, errBadCursor
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return cursor{}, errBadCursor
	}
	id, err := uuid.Parse(idStr)
	if err != nil {
		return cursor{}, errBadCursor
	}
	return cursor{createdAt: t, id: id}, nil
}
