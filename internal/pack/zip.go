package pack

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
)

// Manifest is pack.zip's manifest.json: the project and, in listing order, every image
// with its file name, size, checksum, provider and compliance result.
type Manifest struct {
	Project     ManifestProject `json:"project"`
	GeneratedAt time.Time       `json:"generatedAt"`
	CostUSD     float64         `json:"costUsd"`
	Images      []ManifestImage `json:"images"`
}

// ManifestProject describes the project a pack was made for.
type ManifestProject struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Marketplace string    `json:"marketplace"`
	Title       string    `json:"title"`
	Features    []string  `json:"features"`
	Dimensions  string    `json:"dimensions"`
	Version     int64     `json:"version"`
}

// ManifestImage is one file of the pack.
type ManifestImage struct {
	File       string     `json:"file"`
	Type       string     `json:"type"`
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	Bytes      int64      `json:"bytes"`
	SHA256     string     `json:"sha256"`
	Provider   string     `json:"provider"`
	Model      string     `json:"model,omitempty"`
	Prompt     string     `json:"prompt,omitempty"`
	Compliance Compliance `json:"compliance"`
	CostUSD    float64    `json:"costUsd"`
}

// PackFile is one image in a pack, named for its place in the listing.
type PackFile struct {
	Name  string
	Image db.GeneratedImage
}

// Pack is what pack.zip is made of, read before anything is written so a missing
// project or an empty pack is an error rather than a broken download.
type Pack struct {
	Project db.Project
	Files   []PackFile
}

// FileName returns the zip name of a pack download: the project's name made safe.
func (p *Pack) FileName() string {
	name := []rune{}
	for _, r := range p.Project.Name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			name = append(name, r)
		case r == ' ' || r == '.':
			name = append(name, '-')
		}
		if len(name) >= 60 {
			break
		}
	}
	if len(name) == 0 {
		return "pack.zip"
	}
	return string(name) + "-pack.zip"
}

// LoadPack reads a project's current images in the marketplace's listing order (custom
// images last): files are named 01-main.jpg, 02-lifestyle.jpg, … Errors: EINVALID,
// ENOTFOUND, EPRECONDITION when the project has no image yet.
func (s *Service) LoadPack(ctx context.Context, c Caller, projectID string) (*Pack, error) {
	pid, err := parseID("id", projectID)
	if err != nil {
		return nil, err
	}
	var pk Pack
	err = s.readTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, false)
		if err != nil {
			return err
		}
		pk.Project = p
		imgs, err := q.GeneratedImageListCurrent(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("load images: %w", err)
		}
		byType := newestPerType(imgs)
		var custom []db.GeneratedImage
		for _, g := range imgs {
			if g.Type == TypeCustom {
				custom = append(custom, g)
			}
		}
		n := 0
		for _, t := range PackTypes(p.Marketplace) {
			if g, ok := byType[t]; ok {
				n++
				pk.Files = append(pk.Files, PackFile{Name: fmt.Sprintf("%02d-%s%s", n, t, extOf(g.Mime)), Image: g})
			}
		}
		for i, g := range custom {
			n++
			name := fmt.Sprintf("%02d-custom%s", n, extOf(g.Mime))
			if i > 0 {
				name = fmt.Sprintf("%02d-custom-%d%s", n, i+1, extOf(g.Mime))
			}
			pk.Files = append(pk.Files, PackFile{Name: name, Image: g})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(pk.Files) == 0 {
		return nil, apperr.Errorf(apperr.EPRECONDITION, "the project has no images yet: generate the pack first")
	}
	return &pk, nil
}

func extOf(mime string) string {
	switch mime {
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	default:
		return ".jpg"
	}
}

// WriteZip streams the pack as a zip: the images in listing order, stored without
// recompression (they are JPEGs already), then manifest.json.
func (s *Service) WriteZip(ctx context.Context, pk *Pack, w io.Writer) error {
	zw := zip.NewWriter(w)
	m := Manifest{
		Project: ManifestProject{ID: pk.Project.ID, Name: pk.Project.Name, Marketplace: pk.Project.Marketplace,
			Title: pk.Project.Title, Features: pk.Project.Features, Dimensions: pk.Project.Dimensions, Version: pk.Project.Version},
		GeneratedAt: time.Now().UTC(), CostUSD: pk.Project.CostUsd, Images: []ManifestImage{},
	}
	if m.Project.Features == nil {
		m.Project.Features = []string{}
	}
	for _, f := range pk.Files {
		data, err := s.cfg.Blobs.Get(ctx, f.Image.StorageKey)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store, Modified: f.Image.CreatedAt})
		if err != nil {
			return fmt.Errorf("zip %s: %w", f.Name, err)
		}
		if _, err := fw.Write(data); err != nil {
			return fmt.Errorf("zip %s: %w", f.Name, err)
		}
		sum := sha256.Sum256(data)
		gi := imageFromRow(f.Image, func(string) string { return "" })
		m.Images = append(m.Images, ManifestImage{File: f.Name, Type: f.Image.Type, Width: int(f.Image.Width),
			Height: int(f.Image.Height), Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			Provider: f.Image.Provider, Model: f.Image.Model, Prompt: f.Image.Prompt, Compliance: gi.Compliance,
			CostUSD: f.Image.CostUsd})
	}
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: m.GeneratedAt})
	if err != nil {
		return fmt.Errorf("zip manifest: %w", err)
	}
	enc := json.NewEncoder(mw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("zip manifest: %w", err)
	}
	return zw.Close()
}

// LinkExpiry is when a download link made at now and valid for ttl expires: rounded up
// to a whole minute, so that snapshots built within one minute carry the same link (and
// a client sees no change in a snapshot that did not change).
func LinkExpiry(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl).Truncate(time.Minute).Add(time.Minute)
}
