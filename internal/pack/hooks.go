package pack

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/queue"
)

// JobsChangedTx is the queue's in-transaction hook (queue.Hooks.StateChangeTxFunc): for
// every project whose jobs changed state, it recomputes the status and progress and bumps
// the version, inside the transaction that changed the jobs, so no reader ever sees a job
// finished and its project still generating. Projects are locked in id order, so two
// batches touching the same projects cannot deadlock. It never NOTIFYs.
func (s *Service) JobsChangedTx(ctx context.Context, q db.Querier, jobs []*queue.Job) error {
	for _, id := range projectIDs(jobs) {
		if _, err := s.recomputeTx(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// JobsCommitted is the queue's after-commit hook (queue.Hooks.AfterCommitFunc): it wakes
// long-polls waiting on the projects and passes the change on to ChangedFunc. It does not
// block.
func (s *Service) JobsCommitted(jobs []*queue.Job) {
	ids := projectIDs(jobs)
	changes := make([]Change, 0, len(ids))
	for _, id := range ids {
		owner := ""
		for _, j := range jobs {
			if j.ProjectID.Valid && j.ProjectID.UUID == id {
				owner = j.UserID
				break
			}
		}
		changes = append(changes, Change{ProjectID: id, UserID: owner})
	}
	s.changed(changes...)
}

// projectIDs returns the distinct project ids of jobs, sorted.
func projectIDs(jobs []*queue.Job) []uuid.UUID {
	var ids []uuid.UUID
	for _, j := range jobs {
		if j.ProjectID.Valid && !slices.Contains(ids, j.ProjectID.UUID) {
			ids = append(ids, j.ProjectID.UUID)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return ids
}

// recomputeTx locks a project, recomputes its status and progress from its photo and
// latest jobs, and bumps its version. A project deleted meanwhile is skipped (zero
// project, nil error).
func (s *Service) recomputeTx(ctx context.Context, q db.Querier, id uuid.UUID) (db.Project, error) {
	_, err := q.ProjectLock(ctx, id)
	if db.IsNotFound(err) {
		return db.Project{}, nil
	}
	if err != nil {
		return db.Project{}, fmt.Errorf("lock project: %w", err)
	}
	hasSource := true
	if _, err := q.SourceImageGet(ctx, id); db.IsNotFound(err) {
		hasSource = false
	} else if err != nil {
		return db.Project{}, fmt.Errorf("load source image: %w", err)
	}
	return s.setStateTx(ctx, q, id, hasSource)
}

// setStateTx recomputes the status and progress of a project the transaction has already
// locked, whose photo the caller has already looked up, and bumps its version.
func (s *Service) setStateTx(ctx context.Context, q db.Querier, id uuid.UUID, hasSource bool) (db.Project, error) {
	latest, err := q.ProjectLatestJobs(ctx, id)
	if err != nil {
		return db.Project{}, fmt.Errorf("load jobs: %w", err)
	}
	status, progress := aggregate(hasSource, latest)
	p, err := q.ProjectSetState(ctx, db.ProjectSetStateParams{ID: id, Status: status, Progress: int32(progress)})
	if err != nil {
		return db.Project{}, fmt.Errorf("set project state: %w", err)
	}
	return p, nil
}
