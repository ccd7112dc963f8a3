package pack

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/queue"
)

// Projection keeps each project's status, progress and version in step with its jobs:
// the queue runs it inside every transaction that changes the state of a project's jobs
// (Hooks), so no reader ever sees a job finished and its project still generating. Build
// it before the queue client, which is created with its Hooks.
type Projection struct {
	announce Announcer
}

// NewProjection returns the projection; it announces each changed project, and the
// progress of running jobs, through announce.
func NewProjection(announce Announcer) *Projection {
	return &Projection{announce: announce}
}

// Hooks returns the hooks the queue client is created with.
func (p *Projection) Hooks() queue.Hooks {
	return queue.Hooks{
		StateChangeTxFunc: p.jobsChangedTx,
		AfterCommitFunc:   p.jobsCommitted,
		ProgressFunc:      p.progress,
	}
}

// jobsChangedTx is the in-transaction hook: for every project whose jobs changed state,
// it recomputes the status and progress and bumps the version. Projects are locked in id
// order, so two batches touching the same projects cannot deadlock. It never NOTIFYs.
func (p *Projection) jobsChangedTx(ctx context.Context, q db.Querier, jobs []*queue.Job) error {
	for _, id := range projectIDs(jobs) {
		if _, err := recomputeTx(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// jobsCommitted is the after-commit hook: it announces each changed project. It does not
// block.
func (p *Projection) jobsCommitted(jobs []*queue.Job) {
	for _, id := range projectIDs(jobs) {
		owner := ""
		for _, j := range jobs {
			if j.ProjectID.Valid && j.ProjectID.UUID == id {
				owner = j.UserID
				break
			}
		}
		p.announce.ProjectChanged(Change{ProjectID: id, UserID: owner})
	}
}

// progress passes a project job's in-memory progress on.
func (p *Projection) progress(job *queue.Job, percent int, stage string) {
	if !job.ProjectID.Valid {
		return
	}
	p.announce.JobProgress(JobProgress{ProjectID: job.ProjectID.UUID, UserID: job.UserID, JobID: job.ID, Percent: percent, Stage: stage})
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
func recomputeTx(ctx context.Context, q db.Querier, id uuid.UUID) (db.Project, error) {
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
	return setStateTx(ctx, q, id, hasSource)
}

// setStateTx recomputes the status and progress of a project the transaction has already
// locked, whose photo the caller has already looked up, and bumps its version.
func setStateTx(ctx context.Context, q db.Querier, id uuid.UUID, hasSource bool) (db.Project, error) {
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
