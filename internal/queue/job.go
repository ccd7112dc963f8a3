package queue

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

// Status is a job's state. The values are stored in job_queue.status and are a contract
// with operators' monitoring SQL.
type Status string

// The job statuses.
const (
	// StatusPending: waiting to run at RunAt (first run, retry, snooze or release).
	StatusPending Status = "pending"
	// StatusProcessing: claimed by a worker whose lease runs until LockedUntil.
	StatusProcessing Status = "processing"
	// StatusCompleted: the handler returned nil.
	StatusCompleted Status = "completed"
	// StatusFailed: a permanent error, or MaxAttempts spent. Retry puts it back.
	StatusFailed Status = "failed"
	// StatusCancelled: cancelled by Cancel. Retry puts it back.
	StatusCancelled Status = "cancelled"
)

// Finished reports whether s is completed, failed or cancelled.
func (s Status) Finished() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Job is one row of job_queue. The dispatcher hands handlers a *Job whose Progress method
// reports progress; a Job returned by Get or List is a plain snapshot.
type Job struct {
	ID            uuid.UUID       `json:"id"`
	Kind          string          `json:"kind"`      // selects the handler, e.g. "image.main"
	Queue         string          `json:"queue"`     // "default" unless set at enqueue
	UserID        string          `json:"userId"`    // the owner; claims are fair across owners
	ProjectID     uuid.NullUUID   `json:"projectId"` // links the job to a project (hooks, cascade)
	Payload       json.RawMessage `json:"payload"`
	Status        Status          `json:"status"`
	Priority      int             `json:"priority"`    // lower runs first
	Attempts      int             `json:"attempts"`    // runs that spent an attempt
	MaxAttempts   int             `json:"maxAttempts"` // failed after this many
	RunAt         time.Time       `json:"runAt"`       // not claimed before
	LockedBy      string          `json:"lockedBy,omitempty"`
	LockedUntil   *time.Time      `json:"lockedUntil,omitempty"` // lease end while processing
	Percent       int             `json:"progress"`              // progress, 0-100
	ProgressStage string          `json:"stage"`
	LastError     string          `json:"lastError,omitempty"`
	// Errors is the history of failed attempts: [{"attempt":n,"at":time,"error":msg}].
	Errors      json.RawMessage `json:"errors"`
	UniqueKey   string          `json:"uniqueKey,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
	StartedAt   *time.Time      `json:"startedAt"`   // last claim
	CompletedAt *time.Time      `json:"completedAt"` // set when completed, failed or cancelled
	UpdatedAt   time.Time       `json:"updatedAt"`

	// Existing is set by Enqueue when UniqueKey matched an unfinished job, which is
	// returned instead of a new one. It is not stored.
	Existing bool `json:"-"`

	run *run // set on the handle given to a handler
}

// UnmarshalPayload decodes the job's payload into v.
func (j *Job) UnmarshalPayload(v any) error { return json.Unmarshal(j.Payload, v) }

// Progress reports the running job's progress: percent (clamped to 0-100) and a short
// stage label such as "generating". It is cheap to call often: every call reaches the
// in-memory progress callback (Hooks.ProgressFunc), while the row is written at most once
// per Config.ProgressPersistInterval, and always for 0 and 100. It does nothing on a Job
// that is not running in this process.
func (j *Job) Progress(percent int, stage string) {
	if j == nil || j.run == nil {
		return
	}
	j.run.progress(j, min(max(percent, 0), 100), stage)
}

// jobFromRow converts a generated row.
func jobFromRow(r db.JobQueue) *Job {
	return &Job{
		ID:            r.ID,
		Kind:          r.Kind,
		Queue:         r.Queue,
		UserID:        r.UserID,
		ProjectID:     r.ProjectID,
		Payload:       json.RawMessage(r.Payload),
		Status:        Status(r.Status),
		Priority:      int(r.Priority),
		Attempts:      int(r.Attempts),
		MaxAttempts:   int(r.MaxAttempts),
		RunAt:         r.RunAt,
		LockedBy:      r.LockedBy.String,
		LockedUntil:   r.LockedUntil,
		Percent:       int(r.Progress),
		ProgressStage: r.ProgressStage,
		LastError:     r.LastError.String,
		Errors:        json.RawMessage(r.Errors),
		UniqueKey:     r.UniqueKey.String,
		CreatedAt:     r.CreatedAt,
		StartedAt:     r.StartedAt,
		CompletedAt:   r.CompletedAt,
		UpdatedAt:     r.UpdatedAt,
	}
}

func jobsFromRows(rows []db.JobQueue) []*Job {
	jobs := make([]*Job, len(rows))
	for i, r := range rows {
		jobs[i] = jobFromRow(r)
	}
	return jobs
}

// run is the dispatcher's bookkeeping for one running job.
type run struct {
	d      *dispatcher
	cancel context.CancelCauseFunc

	mu          sync.Mutex
	lastPersist time.Time
}
