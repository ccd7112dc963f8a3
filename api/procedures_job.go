package api

import (
	"context"

	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/trpc"
)

// registerJobProcedures registers job.get, job.list, job.retry and job.cancel.
func registerJobProcedures(r *trpc.Router, svc *pack.Service, lim *limits) {
	trpc.Query(r, "job.get", func(ctx context.Context, in idInput) (pack.Job, error) {
		return svc.JobGet(ctx, callerFrom(ctx), in.ID)
	})
	trpc.Query(r, "job.list", func(ctx context.Context, in pack.JobListInput) ([]pack.Job, error) {
		return svc.JobList(ctx, callerFrom(ctx), in)
	})
	trpc.Mutation(r, "job.retry", func(ctx context.Context, in idInput) (pack.Job, error) {
		if err := lim.enqueue(callerFrom(ctx)); err != nil {
			return pack.Job{}, err
		}
		return svc.JobRetry(ctx, callerFrom(ctx), in.ID)
	})
	trpc.Mutation(r, "job.cancel", func(ctx context.Context, in idInput) (pack.Job, error) {
		return svc.JobCancel(ctx, callerFrom(ctx), in.ID)
	})
}

// registerJobWatch registers job.watch {id}, a streaming query: the job's state now,
// then each time it changes, until it reaches a final status (completed, failed or
// cancelled), when the stream ends. Over httpBatchStreamLink it is a query whose
// result is an async iterable; over wsLink and httpSubscriptionLink, a subscription
// (untracked events: a client that resubscribes gets the current state first), which
// counts against the socket's subscription limit. Like job.get, someone else's job
// (or an unknown one) fails with NOT_FOUND; the service role may watch any job.
//
// Changes come from the realtime broker's updates of the job's project (its state
// changes and in-memory progress). A state change is answered by reading the job again
// (as its owner: the check holds for every state read); a progress overlay of a job the
// snapshot shows still processing only moves its progress, without a read. A job of no project has no such updates:
// its state is sent once.
func registerJobWatch(r *trpc.Router, svc *pack.Service, rt *realtime.Broker) {
	trpc.Stream(r, "job.watch", func(ctx context.Context, in idInput, yield func(pack.Job) error) error {
		return watchJob(ctx, svc, rt, callerFrom(ctx), in.ID, yield)
	})
}

// watchJob yields a job's states until it is final or ctx ends.
func watchJob(ctx context.Context, svc *pack.Service, rt *realtime.Broker, c pack.Caller, id string, yield func(pack.Job) error) error {
	j, err := svc.JobGet(ctx, c, id)
	if err != nil {
		return err
	}
	if err := yield(j); err != nil {
		return err
	}
	if jobFinal(j.Status) || j.ProjectID == nil {
		return nil
	}
	// Subscribed after the first read: the subscription's first state (the project as
	// it is now) makes the job be read again, so no change in between is missed.
	sub := rt.SubscribeProject(*j.ProjectID)
	defer sub.Close()
	last := j
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.C():
		}
		snap, ok, gone := sub.Next()
		if !ok && gone == nil {
			continue
		}
		s, _ := snap.Data.(pack.Snapshot)
		next := last
		if gone != nil || !stillProcessing(s, last) {
			// A state change: read the job. While it runs, progress overlays (up to
			// realtime's ProgressInterval apart) only move its progress, which the
			// snapshot carries: no read for them.
			if next, err = svc.JobGet(ctx, c, id); err != nil {
				return err
			}
		}
		if gone == nil {
			next = withSlotProgress(next, s)
		}
		if next.Status != last.Status || next.Progress != last.Progress || next.Stage != last.Stage || next.Attempts != last.Attempts {
			if err := yield(next); err != nil {
				return err
			}
			last = next
		}
		if jobFinal(next.Status) {
			return nil
		}
		if gone != nil {
			// The project cannot be loaded (deleted): no more updates will come.
			return trpc.Errorf(trpc.CodeNotFound, "job's project not found")
		}
	}
}

// withSlotProgress raises a running job's progress to what its image slot shows: the
// realtime overlay of progress the worker reported but did not store yet.
func withSlotProgress(j pack.Job, s pack.Snapshot) pack.Job {
	if j.Status != pack.JobProcessing {
		return j
	}
	for _, slot := range s.Images {
		if slot.JobID != nil && *slot.JobID == j.ID && slot.Progress > j.Progress {
			j.Progress, j.Stage = slot.Progress, slot.Stage
		}
	}
	return j
}

// stillProcessing reports whether the snapshot shows job j, last seen processing, still
// processing in its image slot.
func stillProcessing(s pack.Snapshot, j pack.Job) bool {
	if j.Status != pack.JobProcessing {
		return false
	}
	for _, slot := range s.Images {
		if slot.JobID != nil && *slot.JobID == j.ID {
			return slot.Status == pack.JobProcessing
		}
	}
	return false
}

func jobFinal(status string) bool {
	return status == pack.JobCompleted || status == pack.JobFailed || status == pack.JobCancelled
}
