package pack

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
)

// Create makes a project for the caller. Errors: EINVALID with a message per field.
func (s *Service) Create(ctx context.Context, c Caller, in CreateInput) (Snapshot, error) {
	d, marketplace, err := validateCreate(in)
	if err != nil {
		return Snapshot{}, err
	}
	if c.UserID == "" {
		return Snapshot{}, apperr.Errorf(apperr.EUNAUTHORIZED, "sign in to create projects")
	}
	var snap Snapshot
	err = s.store.InTx(ctx, func(q db.Querier) error {
		p, err := q.ProjectInsert(ctx, db.ProjectInsertParams{
			UserID: c.UserID, Name: d.name, Marketplace: marketplace, Title: d.title,
			Features: d.features, Dimensions: d.dimensions,
			DimWidth: d.dims.Width, DimHeight: d.dims.Height, DimDepth: d.dims.Depth, DimUnit: d.dims.Unit,
		})
		if err != nil {
			return fmt.Errorf("insert project: %w", err)
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

// Get returns the snapshot of a project the caller may see. Errors: EINVALID for a
// malformed id, ENOTFOUND for an unknown or foreign one.
func (s *Service) Get(ctx context.Context, c Caller, id string) (Snapshot, error) {
	pid, err := ParseID(id)
	if err != nil {
		return Snapshot{}, err
	}
	var snap Snapshot
	err = s.readTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, false)
		if err != nil {
			return err
		}
		snap, err = s.snapshotIn(ctx, q, p)
		return err
	})
	return snap, err
}

// Page is one page of the project list.
type Page struct {
	Items []Summary `json:"items"`
	// NextCursor fetches the next page; nil on the last page.
	NextCursor *string `json:"nextCursor"`
}

// List pages the caller's projects newest first (every user's for the operator).
// Errors: EINVALID for a bad cursor or limit.
func (s *Service) List(ctx context.Context, c Caller, cursorStr string, limit int) (Page, error) {
	f := fieldErrors{}
	cur, err := decodeCursor(cursorStr)
	if err != nil {
		f["cursor"] = "is not a cursor this server returned"
	}
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 1 || limit > MaxPageSize:
		f["limit"] = fmt.Sprintf("must be between 1 and %d", MaxPageSize)
	}
	if err := f.err(); err != nil {
		return Page{}, err
	}
	var rows []db.Project
	if c.Admin {
		rows, err = s.store.ProjectListAll(ctx, db.ProjectListAllParams{
			CursorCreatedAt: cur.createdAt, CursorID: cur.id, RowLimit: int32(limit + 1)})
	} else {
		rows, err = s.store.ProjectListForUser(ctx, db.ProjectListForUserParams{
			UserID: c.UserID, CursorCreatedAt: cur.createdAt, CursorID: cur.id, RowLimit: int32(limit + 1)})
	}
	if err != nil {
		return Page{}, fmt.Errorf("list projects: %w", err)
	}
	page := Page{Items: []Summary{}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next := cursor{createdAt: last.CreatedAt, id: last.ID}.encode()
		page.NextCursor = &next
	}
	if len(rows) == 0 {
		return page, nil
	}
	page.Items, err = s.summaries(ctx, s.store, rows)
	return page, err
}

// summaries converts project rows to list items with their thumbnails.
func (s *Service) summaries(ctx context.Context, q db.Querier, rows []db.Project) ([]Summary, error) {
	ids := make([]uuid.UUID, len(rows))
	for i, p := range rows {
		ids[i] = p.ID
	}
	thumbs, err := q.ProjectThumbnails(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load thumbnails: %w", err)
	}
	keys := make(map[uuid.UUID]string, len(thumbs))
	for _, t := range thumbs {
		keys[t.ProjectID] = t.StorageKey
	}
	out := make([]Summary, len(rows))
	for i, p := range rows {
		out[i] = summaryOf(p)
		if k := keys[p.ID]; k != "" {
			u := s.cfg.Blobs.URL(k)
			out[i].ThumbnailURL = &u
		}
	}
	return out, nil
}

func summaryOf(p db.Project) Summary {
	return Summary{ID: p.ID, Name: p.Name, Marketplace: p.Marketplace, Status: p.Status,
		Progress: int(p.Progress), Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, UserID: p.UserID}
}

// Summary returns one project's list item whatever its owner (for realtime's list
// subscription). Errors: ENOTFOUND.
func (s *Service) Summary(ctx context.Context, projectID uuid.UUID) (Summary, error) {
	p, err := s.store.ProjectGet(ctx, projectID)
	if db.IsNotFound(err) {
		return Summary{}, apperr.NotFound("project")
	}
	if err != nil {
		return Summary{}, fmt.Errorf("load project: %w", err)
	}
	items, err := s.summaries(ctx, s.store, []db.Project{p})
	if err != nil {
		return Summary{}, err
	}
	return items[0], nil
}

// Update changes a project's name and product data; absent fields stay. Errors:
// EINVALID per field, ENOTFOUND.
func (s *Service) Update(ctx context.Context, c Caller, in UpdateInput) (Snapshot, error) {
	pid, err := ParseID(in.ID)
	if err != nil {
		return Snapshot{}, err
	}
	f := fieldErrors{}
	var d details
	if in.Name != nil {
		d.name = f.text("name", *in.Name, MaxNameLen, true)
	}
	if in.Title != nil {
		d.title = f.text("title", *in.Title, MaxTitleLen, false)
	}
	if in.Features != nil {
		d.features = f.features(in.Features)
	}
	if in.Dimensions != nil {
		d.dimensions, d.dims = f.dimensions(*in.Dimensions)
	}
	if err := f.err(); err != nil {
		return Snapshot{}, err
	}
	var snap Snapshot
	err = s.store.InTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, true)
		if err != nil {
			return err
		}
		arg := db.ProjectUpdateDetailsParams{ID: p.ID, Name: p.Name, Title: p.Title, Features: p.Features,
			Dimensions: p.Dimensions, DimWidth: p.DimWidth, DimHeight: p.DimHeight, DimDepth: p.DimDepth, DimUnit: p.DimUnit}
		if in.Name != nil {
			arg.Name = d.name
		}
		if in.Title != nil {
			arg.Title = d.title
		}
		if in.Features != nil {
			arg.Features = d.features
		}
		if in.Dimensions != nil {
			arg.Dimensions, arg.DimWidth, arg.DimHeight, arg.DimDepth, arg.DimUnit =
				d.dimensions, d.dims.Width, d.dims.Height, d.dims.Depth, d.dims.Unit
		}
		if arg.Features == nil {
			arg.Features = []string{}
		}
		p, err = q.ProjectUpdateDetails(ctx, arg)
		if err != nil {
			return fmt.Errorf("update project: %w", err)
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

// Delete removes a project with its photo, images and jobs (running jobs see their
// project gone and stop). Errors: EINVALID, ENOTFOUND.
func (s *Service) Delete(ctx context.Context, c Caller, id string) error {
	pid, err := ParseID(id)
	if err != nil {
		return err
	}
	var owner string
	err = s.store.InTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, true)
		if err != nil {
			return err
		}
		owner = p.UserID
		if _, err := q.ProjectDeleteByID(ctx, p.ID); err != nil {
			return fmt.Errorf("delete project: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.changed(Change{ProjectID: pid, UserID: owner})
	return nil
}
