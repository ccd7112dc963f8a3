package api

import (
	"context"

	"github.com/packshot/packshot/internal/pack"
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
