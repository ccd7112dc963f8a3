package pack

import (
	"context"
	"errors"
	"fmt"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/imaging"
)

// CheckUploadSize returns an ETOOLARGE error when a photo of n bytes is over limit
// bytes, else nil. Every protocol's upload and Upload itself check with it.
func CheckUploadSize(n, limit int64) error {
	if n <= limit {
		return nil
	}
	return &apperr.Error{Code: apperr.ETOOLARGE,
		Message: fmt.Sprintf("the photo is %.1f MB; the limit is %d MB", float64(n)/(1<<20), limit>>20)}
}

// mimeTypes maps imaging's format names to MIME types.
var mimeTypes = map[string]string{"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}

// Upload stores a project's photo (replacing any previous one) and moves a draft project
// to ready. The photo is decoded in full before anything is stored, so a truncated or
// hostile file changes nothing; the decode takes its estimated memory from the
// process-wide decode budget first, waiting for it while ctx lasts. Errors: EINVALID
// (malformed id, not an image, truncated, corrupt, too many pixels, a decode too large
// for the budget, too small for the marketplace), ETOOLARGE (over MaxUploadBytes),
// EUNAVAILABLE (ctx ended while waiting for the decode budget), ENOTFOUND, ECONFLICT (a
// pack is being generated from the current photo).
func (s *Service) Upload(ctx context.Context, c Caller, projectID string, data []byte) (Snapshot, error) {
	pid, err := parseID("projectId", projectID)
	if err != nil {
		return Snapshot{}, err
	}
	if err := CheckUploadSize(int64(len(data)), s.cfg.MaxUploadBytes); err != nil {
		return Snapshot{}, err
	}
	p, err := s.ownedProject(ctx, s.store, c, pid, false)
	if err != nil {
		return Snapshot{}, err
	}
	prof, err := s.cfg.ProfileFunc(p.Marketplace)
	if err != nil {
		return Snapshot{}, fmt.Errorf("project marketplace: %w", err)
	}
	lim := prof.SourceLimits()
	lim.MaxBytes = max(s.cfg.MaxUploadBytes, lim.MaxBytes)
	img, format, err := imaging.DecodeBytes(ctx, data, lim)
	if err != nil {
		return Snapshot{}, uploadError(err, p.Marketplace)
	}
	mime := mimeTypes[format]
	key, err := s.cfg.Blobs.Put(ctx, data, mime)
	if err != nil {
		return Snapshot{}, fmt.Errorf("store photo: %w", err)
	}
	var snap Snapshot
	err = s.store.InTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, true)
		if err != nil {
			return err
		}
		if p.Status == StatusGenerating {
			return apperr.Errorf(apperr.ECONFLICT, "images are being generated from the current photo: wait for them or cancel them first")
		}
		b := img.Bounds()
		if _, err := q.SourceImageUpsert(ctx, db.SourceImageUpsertParams{ProjectID: p.ID, UserID: p.UserID, StorageKey: key,
			Width: int32(b.Dx()), Height: int32(b.Dy()), Bytes: int64(len(data)), Mime: mime}); err != nil {
			return fmt.Errorf("record photo: %w", err)
		}
		if p, err = recomputeTx(ctx, q, p.ID); err != nil {
			return err
		}
		snap, err = s.snapshotIn(ctx, q, p)
		return err
	})
	if err != nil {
		return Snapshot{}, err
	}
	s.changed(Change{ProjectID: snap.ID, UserID: snap.UserID, Version: snap.Version})
	return snap, nil
}

// uploadError turns imaging's typed decode errors into what the user is told.
func uploadError(err error, marketplace string) error {
	field := func(code, msg string) error {
		return &apperr.Error{Code: code, Message: msg, Fields: map[string]string{"file": msg}, Err: err}
	}
	switch {
	case errors.Is(err, imaging.ErrDecodeBusy):
		return &apperr.Error{Code: apperr.EUNAVAILABLE, Message: "the server is busy reading other photos: try again", Err: err}
	case errors.Is(err, imaging.ErrTooSmall):
		return field(apperr.EINVALID, fmt.Sprintf("the photo is too small for %s: %v", marketplace, err))
	case errors.Is(err, imaging.ErrTooLarge):
		return field(apperr.EINVALID, fmt.Sprintf("the photo is too large: %v", err))
	case errors.Is(err, imaging.ErrNotImage), errors.Is(err, imaging.ErrTruncated), errors.Is(err, imaging.ErrCorrupt):
		return field(apperr.EINVALID, "the file is not a usable photo: "+err.Error())
	default:
		return fmt.Errorf("decode photo: %w", err)
	}
}
