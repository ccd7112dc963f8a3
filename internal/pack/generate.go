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

// GenerateInput is the input of image.generate.
type GenerateInput struct {
	ProjectID      string  `json:"projectId"`
	Type           string  `json:"type"`
	Prompt         *string `json:"prompt,omitempty"`
	IdempotencyKey *string `json:"idempotencyKey,omitempty"`
}

// PackInput is the input of image.generateCompletePack.
type PackInput struct {
	ProjectID      string  `json:"projectId"`
	IdempotencyKey *string `json:"idempotencyKey,omitempty"`
}

// Jobs is the answer of the generate procedures.
type Jobs struct {
	Jobs []Job `json:"jobs"`
}

// Generate enqueues one image job. Without an idempotency key, a second request for the
// same image while its job is unfinished returns that job; custom images are each new.
// Errors: EINVALID (id, type, prompt, key), ENOTFOUND, EPRECONDITION (no photo yet, no AI
// service for a custom image), ECONFLICT (key used for another request), ERATELIMITED (an
// AI spend limit, named in the message, with when to retry).
func (s *Service) Generate(ctx context.Context, c Caller, in GenerateInput) (Jobs, error) {
	f := fieldErrors{}
	pid, err := uuid.Parse(strings.TrimSpace(in.ProjectID))
	if err != nil {
		f["projectId"] = "must be a UUID"
	}
	t, err := ParseType(in.Type)
	if err != nil {
		f["type"] = err.Error()
	}
	prompt := ""
	if in.Prompt != nil {
		prompt = f.text("prompt", *in.Prompt, MaxPromptLen, false)
	}
	if t == TypeCustom && prompt == "" && f["prompt"] == "" {
		f["prompt"] = "is required for a custom image"
	}
	key := f.key(in.IdempotencyKey)
	if err := f.err(); err != nil {
		return Jobs{}, err
	}
	if t == TypeCustom && s.cfg.Providers.Generator == nil {
		return Jobs{}, apperr.Errorf(apperr.EPRECONDITION,
			"custom images need an AI image service: the server has no OPENAI_API_KEY or GEMINI_API_KEY")
	}
	return s.enqueue(ctx, c, pid, key, "image."+t, func(p db.Project) ([]queue.EnqueueParams, error) {
		if !canMake(p, t) {
			return nil, missingDataError(t)
		}
		return []queue.EnqueueParams{s.jobParams(p, t, prompt)}, nil
	})
}

// GeneratePack enqueues one job per image of the marketplace's complete pack (skipping
// the infographic without features and the dimensions image without dimensions). Images
// whose job is still unfinished are not enqueued again; their jobs are returned. Errors:
// as for Generate.
func (s *Service) GeneratePack(ctx context.Context, c Caller, in PackInput) (Jobs, error) {
	f := fieldErrors{}
	pid, err := uuid.Parse(strings.TrimSpace(in.ProjectID))
	if err != nil {
		f["projectId"] = "must be a UUID"
	}
	key := f.key(in.IdempotencyKey)
	if err := f.err(); err != nil {
		return Jobs{}, err
	}
	return s.enqueue(ctx, c, pid, key, "pack", func(p db.Project) ([]queue.EnqueueParams, error) {
		var ps []queue.EnqueueParams
		for _, t := range PackTypes(p.Marketplace) {
			if canMake(p, t) {
				ps = append(ps, s.jobParams(p, t, ""))
			}
		}
		return ps, nil
	})
}

func missingDataError(t string) error {
	what := map[string]string{TypeInfographic: "features", TypeDimensions: "dimensions"}[t]
	return apperr.Errorf(apperr.EPRECONDITION, "the %s image needs the product's %s: add them to the project first", t, what)
}

// key validates an optional idempotency key.
func (f fieldErrors) key(k *string) string {
	if k == nil {
		return ""
	}
	v := strings.TrimSpace(*k)
	switch {
	case v == "":
		f["idempotencyKey"] = "must not be empty when given"
	case len(v) > MaxKeyLen:
		f["idempotencyKey"] = fmt.Sprintf("must be at most %d characters", MaxKeyLen)
	}
	return v
}

// jobParams describes the job that makes image type t for p. Pack images carry a unique
// key per project and type, so a double click enqueues nothing while the first job runs.
func (s *Service) jobParams(p db.Project, t, prompt string) queue.EnqueueParams {
	ep := queue.EnqueueParams{
		Args: argsFor(t, prompt), UserID: p.UserID, ProjectID: uuid.NullUUID{UUID: p.ID, Valid: true},
	}
	if t != TypeCustom {
		ep.UniqueKey = "image:" + p.ID.String() + ":" + t
	}
	return ep
}

// enqueue runs one generate request in one transaction: it locks the project, honours the
// idempotency key (a repeat returns the first request's jobs and enqueues nothing),
// enqueues the jobs plan returns, checks the AI spend limits against them, records them
// under the key, and recomputes the project's status. Dispatchers are woken after the
// commit.
func (s *Service) enqueue(ctx context.Context, c Caller, pid uuid.UUID, key, request string,
	plan func(db.Project) ([]queue.EnqueueParams, error)) (Jobs, error) {
	var out Jobs
	var change *Change
	err := s.store.InTx(ctx, func(q db.Querier) error {
		p, err := s.ownedProject(ctx, q, c, pid, true)
		if err != nil {
			return err
		}
		if key != "" {
			_, err := q.IdempotencyKeyInsert(ctx, db.IdempotencyKeyInsertParams{UserID: c.UserID, Key: key, ProjectID: p.ID, Request: request})
			if db.IsNotFound(err) {
				out, err = s.replay(ctx, q, c, key, p.ID, request)
				return err
			}
			if err != nil {
				return fmt.Errorf("record idempotency key: %w", err)
			}
		}
		src, err := q.SourceImageGet(ctx, p.ID)
		if db.IsNotFound(err) {
			return apperr.Errorf(apperr.EPRECONDITION, "upload a photo of the product first")
		} else if err != nil {
			return fmt.Errorf("load source image: %w", err)
		}
		ps, err := plan(p)
		if err != nil {
			return err
		}
		out.Jobs = make([]Job, 0, len(ps))
		ids := make([]uuid.UUID, 0, len(ps))
		paidKinds := s.paidKinds()
		paid, created := 0, 0
		for _, ep := range ps {
			j, err := s.queue.EnqueueTx(ctx, q, ep)
			if err != nil {
				return err
			}
			out.Jobs = append(out.Jobs, jobFromQueue(c, j))
			ids = append(ids, j.ID)
			if !j.Existing {
				created++
				if slices.Contains(paidKinds, j.Kind) {
					paid++
				}
			}
		}
		// The spend limits count the jobs just written, so they go after the enqueue;
		// a refusal rolls everything back.
		cutout := 0.0
		if created > 0 {
			cutout = s.cutoutEstimateUSD(src)
		}
		if err := s.checkSpendTx(ctx, q, c, paid, cutout); err != nil {
			return err
		}
		if key != "" {
			if err := q.IdempotencyKeySetJobs(ctx, db.IdempotencyKeySetJobsParams{UserID: c.UserID, Key: key, JobIds: ids}); err != nil {
				return fmt.Errorf("record idempotent jobs: %w", err)
			}
		}
		// The project is locked and its photo checked above: only the state is new.
		p, err = setStateTx(ctx, q, p.ID, true)
		if err != nil {
			return err
		}
		change = &Change{ProjectID: p.ID, UserID: p.UserID, Version: p.Version}
		return nil
	})
	if err != nil {
		return Jobs{}, err
	}
	if change != nil {
		s.queue.Wake()
		s.changed(*change)
	}
	return out, nil
}

// replay answers a repeated request: the jobs the key's first request enqueued, as they
// are now. A key reused for a different project or request is ECONFLICT.
func (s *Service) replay(ctx context.Context, q db.Querier, c Caller, key string, pid uuid.UUID, request string) (Jobs, error) {
	k, err := q.IdempotencyKeyGet(ctx, db.IdempotencyKeyGetParams{UserID: c.UserID, Key: key})
	if err != nil {
		return Jobs{}, fmt.Errorf("read idempotency key: %w", err)
	}
	if k.ProjectID != pid || k.Request != request {
		return Jobs{}, apperr.Errorf(apperr.ECONFLICT, "this idempotency key was already used for a different request")
	}
	out := Jobs{Jobs: make([]Job, 0, len(k.JobIds))}
	for _, id := range k.JobIds {
		row, err := q.JobGet(ctx, id)
		if db.IsNotFound(err) {
			continue // pruned after the retention period
		}
		if err != nil {
			return Jobs{}, fmt.Errorf("read job: %w", err)
		}
		out.Jobs = append(out.Jobs, jobFromRow(c, row))
	}
	return out, nil
}

// jobFromQueue converts the queue's job as c may see it.
func jobFromQueue(c Caller, q *queue.Job) Job {
	j := Job{
		ID: q.ID, Kind: q.Kind, Status: string(q.Status), Attempts: q.Attempts, MaxAttempts: q.MaxAttempts,
		Progress: q.Percent, Stage: q.ProgressStage, RunAt: q.RunAt, CreatedAt: q.CreatedAt,
		StartedAt: q.StartedAt, CompletedAt: q.CompletedAt, UserID: q.UserID,
	}
	j.Type, _ = TypeOfKind(q.Kind)
	if q.ProjectID.Valid {
		id := q.ProjectID.UUID
		j.ProjectID = &id
	}
	if q.LastError != "" {
		e := publicErrorFor(c, q.LastError)
		j.LastError = &e
	}
	return j
}
