package pack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/queue"
)

// JobListInput is the input of job.list.
type JobListInput struct {
	ProjectID *string `json:"projectId,omitempty"`
	Status    *string `json:"status,omitempty"`
}

var jobStatuses = []string{JobPending, JobProcessing, JobCompleted, JobFailed, JobCancelled}

// ownedJob returns a job the caller may see, else ENOTFOUND.
func (s *Service) ownedJob(ctx context.Context, c Caller, id string) (*queue.Job, error) {
	jid, err := ParseID(id)
	if err != nil {
		return nil, err
	}
	j, err := s.queue.Get(ctx, jid)
	if err != nil {
		return nil, err
	}
	if !c.Admin && (j.UserID != c.UserID || c.UserID == "") {
		return nil, apperr.NotFound("job")
	}
	return j, nil
}

// JobGet returns a job of the caller's. Errors: EINVALID, ENOTFOUND.
func (s *Service) JobGet(ctx context.Context, c Caller, id string) (Job, error) {
	j, err := s.ownedJob(ctx, c, id)
	if err != nil {
		return Job{}, err
	}
	return jobFromQueue(c, j), nil
}

// JobList returns the caller's jobs newest first (at most 100), of one project and/or one
// status when given. Errors: EINVALID, ENOTFOUND for a project the caller cannot see.
func (s *Service) JobList(ctx context.Context, c Caller, in JobListInput) ([]Job, error) {
	f := fieldErrors{}
	lp := queue.ListParams{Limit: 100}
	if !c.Admin {
		lp.UserID = c.UserID
	}
	var pid uuid.UUID
	if in.ProjectID != nil {
		id, err := uuid.Parse(strings.TrimSpace(*in.ProjectID))
		if err != nil {
			f["projectId"] = "must be a UUID"
		}
		pid = id
	}
	if in.Status != nil {
		ok := false
		for _, st := range jobStatuses {
			ok = ok || st == *in.Status
		}
		if !ok {
			f["status"] = fmt.Sprintf("unknown status %q (valid: %s)", *in.Status, strings.Join(jobStatuses, ", "))
		}
		lp.Status = queue.Status(*in.Status)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if in.ProjectID != nil {
		if _, err := s.ownedProject(ctx, s.store, c, pid, false); err != nil {
			return nil, err
		}
		lp.ProjectID = uuid.NullUUID{UUID: pid, Valid: true}
		lp.UserID = ""
	}
	jobs, err := s.queue.List(ctx, lp)
	if err != nil {
		return nil, err
	}
	return jobsOf(c, jobs), nil
}

// jobsOf converts the queue's jobs as c may see them.
func jobsOf(c Caller, jobs []*queue.Job) []Job {
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = jobFromQueue(c, j)
	}
	return out
}

// JobRetry puts a failed or cancelled job of the caller's back to pending; its project
// turns generating again in the same transaction, which also checks the AI spend limits
// (a retry of a paid job is paid work again). Errors: EINVALID, ENOTFOUND, ECONFLICT (the
// job is not failed or cancelled), ERATELIMITED (a spend limit, named).
func (s *Service) JobRetry(ctx context.Context, c Caller, id string) (Job, error) {
	j, err := s.ownedJob(ctx, c, id)
	if err != nil {
		return Job{}, err
	}
	if !j.ProjectID.Valid {
		if j, err = s.queue.Retry(ctx, j.ID); err != nil {
			return Job{}, err
		}
		return jobFromQueue(c, j), nil
	}
	var retried *queue.Job
	err = s.store.InTx(ctx, func(q db.Querier) error {
		// Locks in the order of an enqueue (the project, then the job's row or the
		// unique index entry of its type, then the spend locks): retrying a job while
		// an image of the same type is requested for its project cannot deadlock. The
		// job was read without a lock; RetryTx checks its state again under one.
		if _, err := q.ProjectLock(ctx, j.ProjectID.UUID); db.IsNotFound(err) {
			return apperr.NotFound("job")
		} else if err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		r, err := s.queue.RetryTx(ctx, q, j.ID)
		if err != nil {
			return err
		}
		paid, cutout := 0, 0.0
		if slices.Contains(s.paidKinds(), r.Kind) {
			paid = 1
		}
		if src, err := q.SourceImageGet(ctx, j.ProjectID.UUID); err == nil {
			cutout = s.cutoutEstimateUSD(src)
		} else if !db.IsNotFound(err) {
			return fmt.Errorf("load source image: %w", err)
		}
		if err := s.checkSpendTx(ctx, q, c, paid, cutout); err != nil {
			return err
		}
		retried = r
		_, err = recomputeTx(ctx, q, j.ProjectID.UUID)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	s.queue.Wake()
	s.changed(Change{ProjectID: retried.ProjectID.UUID, UserID: retried.UserID})
	return jobFromQueue(c, retried), nil
}

// JobCancel cancels a pending or running job of the caller's. Errors: EINVALID,
// ENOTFOUND, ECONFLICT (already finished).
func (s *Service) JobCancel(ctx context.Context, c Caller, id string) (Job, error) {
	j, err := s.ownedJob(ctx, c, id)
	if err != nil {
		return Job{}, err
	}
	j, err = s.queue.Cancel(ctx, j.ID)
	if err != nil {
		return Job{}, err
	}
	return jobFromQueue(c, j), nil
}

// JobStats is the answer of admin.jobStats.
type JobStats struct {
	Stats []queue.StatusStat `json:"stats"`
}

// AdminJobStats returns the operators' summary (jobs per status, mean time from enqueue
// to finish). Errors: EFORBIDDEN for callers without the service role.
func (s *Service) AdminJobStats(ctx context.Context, c Caller) (JobStats, error) {
	if !c.Admin {
		return JobStats{}, apperr.Errorf(apperr.EFORBIDDEN, "this procedure needs the service_role")
	}
	st, err := s.queue.Stats(ctx)
	if err != nil {
		return JobStats{}, err
	}
	if st == nil {
		st = []queue.StatusStat{}
	}
	return JobStats{Stats: st}, nil
}

// AdminFailedJobs returns the latest failed jobs (default 10, at most 1,000). Errors:
// EFORBIDDEN, EINVALID.
func (s *Service) AdminFailedJobs(ctx context.Context, c Caller, limit int) ([]Job, error) {
	if !c.Admin {
		return nil, apperr.Errorf(apperr.EFORBIDDEN, "this procedure needs the service_role")
	}
	switch {
	case limit == 0:
		limit = 10
	case limit < 1 || limit > 1000:
		return nil, fieldErrors{"limit": "must be between 1 and 1000"}.err()
	}
	jobs, err := s.queue.List(ctx, queue.ListParams{Status: queue.StatusFailed, Limit: limit})
	if err != nil {
		return nil, err
	}
	return jobsOf(c, jobs), nil
}

// Images returns a project's current images, oldest first. Errors: EINVALID, ENOTFOUND.
func (s *Service) Images(ctx context.Context, c Caller, projectID string) ([]GeneratedImage, error) {
	pid, err := parseID("projectId", projectID)
	if err != nil {
		return nil, err
	}
	var out []GeneratedImage
	err = s.readTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, false)
		if err != nil {
			return err
		}
		rows, err := q.GeneratedImageListCurrent(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("list images: %w", err)
		}
		out = make([]GeneratedImage, len(rows))
		for i, r := range rows {
			out[i] = imageFromRow(r, s.cfg.Blobs.URL)
		}
		return nil
	})
	return out, err
}
